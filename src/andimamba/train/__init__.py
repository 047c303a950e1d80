"""Training :class:`~andimamba.nn.model.AnDiNet` on simulated tracks (``andimamba train``).

Modules (each one concern):

==============  ==========================================================================================
config          :class:`TrainConfig` (the run), :func:`learning_rate` (schedule), :func:`read_train_config`
data            the on-the-fly stream, stored shards (:class:`ShardSet`), the fixed validation set
evaluation      :func:`evaluate`: the validation metrics (the loss terms pooled over a set)
distributed     devices, threads, the ``torchrun`` process group and its collectives
state           the resume state (``train_state.*``: weights, optimizer, RNG, record)
loop            :func:`train` (the loop, checkpoints, exact resume, time budget) and :func:`train_step`
workers         :class:`~andimamba.train.workers.SimulationPool`: training data simulated in worker processes
average         :func:`~andimamba.train.average.average_checkpoints`: weights of several checkpoints averaged
==============  ==========================================================================================

What a run writes and how it resumes: :mod:`andimamba.train.loop`; the weights and config it leaves for
prediction: :mod:`andimamba.checkpoint`.
"""

from andimamba.train.config import (
    RESUMABLE_FIELDS,
    TrainConfig,
    learning_rate,
    read_train_config,
)
from andimamba.train.data import (
    STREAM_LENGTH,
    ShardSet,
    batch_tensors,
    stream_batches,
    take_tracks,
    validation_set,
)
from andimamba.train.distributed import pin_threads, resolve_device
from andimamba.train.evaluation import VAL_METRICS, evaluate
from andimamba.train.loop import METRIC_COLUMNS, METRICS_FILE, train, train_step

__all__ = [
    "TrainConfig",
    "RESUMABLE_FIELDS",
    "learning_rate",
    "read_train_config",
    "STREAM_LENGTH",
    "ShardSet",
    "batch_tensors",
    "stream_batches",
    "take_tracks",
    "validation_set",
    "pin_threads",
    "resolve_device",
    "VAL_METRICS",
    "evaluate",
    "METRIC_COLUMNS",
    "METRICS_FILE",
    "train",
    "train_step",
]
