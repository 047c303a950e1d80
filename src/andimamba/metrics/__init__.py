"""AnDi-2 scoring, reproducing ``andi_datasets.utils_challenge`` (2.1.13) number for number, vectorised.

One concern per module (official function each mirrors):

- :mod:`.labels`: label files → ``{traj_idx: SegmentResult}`` (``load_file_to_df``; the line
  itself is :func:`andimamba.andi2.parse_label_line`).
- :mod:`.pairing`: per-track Hungarian pairing of change points on ``|Δt|``
  (``changepoint_assignment``) and of segments on ``1 − Jaccard`` of their frame sets
  (``segment_assignment``, ``check_no_changepoints``, ``create_binary_segment``).
- :mod:`.single`: the pooled single-trajectory metrics of one experiment
  (``error_SingleTraj_dataset``): CP RMSE over TPs (``|Δt| < 10``) and JSC, α MAE, K MSLE,
  state micro-F1.
- :mod:`.ensemble`: W1 between truncated-normal mixtures on a 10⁶-point grid
  (``error_Ensemble_dataset``).
- :mod:`.folder`: a submission folder against a reference folder (``run_single_task``,
  ``run_ensemble_task``).

Official quirks are kept on purpose (listed in ``tests/metrics/`` and the functions' Notes). Not
reproduced: blank lines are skipped (the official parser crashes); a repeated ``traj_idx`` keeps
its first line (official: an unstable sort decides, and a repeated truth line is scored twice);
inputs the official scorer crashes on raise ``ValueError`` with a reason; the ensemble table's
``exp`` holds the experiment numbers (official: 0, 1, …); the input matrix's weights are not
normalised in place; files in ``track_N/`` that are not experiment folders are ignored. Not
implemented: the codalab HTML/score files.
"""

from .ensemble import ENSEMBLE_FAILURE, ensemble_scores
from .folder import ScoringFailed, experiment_labels, experiment_numbers, score_directory
from .labels import read_labels_file, traj_idx
from .pairing import CP_THRESHOLD, FlatTracks, changepoint_counts, segment_pairs
from .single import METRICS, SINGLE_FAILURE, single_trajectory_scores

__all__ = [
    "CP_THRESHOLD",
    "ENSEMBLE_FAILURE",
    "METRICS",
    "SINGLE_FAILURE",
    "FlatTracks",
    "ScoringFailed",
    "changepoint_counts",
    "ensemble_scores",
    "experiment_labels",
    "experiment_numbers",
    "read_labels_file",
    "score_directory",
    "segment_pairs",
    "single_trajectory_scores",
    "traj_idx",
]
