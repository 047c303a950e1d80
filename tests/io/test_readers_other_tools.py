"""Readers: the tables of other tracking tools (quot, saspt, Spot-On, MOSAIC, u-track, Icy, ThunderSTORM, SMAP, FreeTrace)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from track_files import TWO, _check, _xy, one_line, trackpy_rows, write_table

from andimamba.io import (
    TrackFileError,
    detect_format,
    read_tracks,
    tracks_from_dataframe,
)


# ----------------------------------------------------------------------------- other tools' tables
def test_quot_and_saspt(tmp_path):
    """quot's trajectory CSV (pixels; y before x; x_detect and loc_idx must not be taken) and saspt's sample."""
    header = ("y,x,I0,bg,y_err,x_err,I0_err,bg_err,H_det,error_flag,snr,rmse,n_iter,y_detect,x_detect,frame,"
              "loc_idx,trajectory,subproblem_n_traj,subproblem_n_locs")
    rows = [(y, x, 133.9, 2.15, 0.198, 0.198, 15.3, 0.317, 0.0235, 0.0, 203.5, 2.29, 10.0, round(y), round(x),
             f, k, tid, 0, 1) for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))]
    quot = write_table(tmp_path / "region_0_7ms_trajs.csv", header, rows, fmt=repr)
    assert detect_format(quot) == "tidy"
    _check(read_tracks(quot))
    saspt = write_table(tmp_path / "sample_tracks.csv", "trajectory,frame,y,x",
                        [(tid, f, y, x) for tid, f, x, y in trackpy_rows(TWO)])
    _check(read_tracks(saspt))


def test_spot_on_csv_is_in_microns(tmp_path):
    """Spot-On's CSV format (as GDSC SMLM writes it): frame, t (s), trajectory, x (µm), y (µm)."""
    rows = [(f, f"{f * 0.01:.3f}", tid, x * 0.16, y * 0.16) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "spoton.csv", "frame,t,trajectory,x,y", rows)
    _check(read_tracks(p, pixel_size=0.16))  # µm -> px
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "spoton.csv", "Spot-On", "pixel_size=", "units='px'")
    _check(read_tracks(p, units="px"), scale=0.16)  # the user says pixels: no conversion


def test_mosaic_particle_tracker(tmp_path):
    """MOSAIC 'All Trajectories to Table' saved as CSV: an unnamed ' ' index column, z = 0, moments."""
    rows = [(k + 1, tid, f, x, y, 0, 4.208, 2.083, 5.315, 15.293, 48.155, 9.374)
            for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))]
    p = write_table(tmp_path / "Traj_cell.csv", " ,Trajectory,Frame,x,y,z,m0,m1,m2,m3,m4,NPscore", rows)
    _check(read_tracks(p))


def test_utrack_and_icy_tables(tmp_path):
    """A u-track table (TrackID, Frame, X, Y: any case) and Icy's track table (t = frame index, as 0.0)."""
    utrack = write_table(tmp_path / "utrack.csv", "TrackID,Frame,X,Y,A",
                         [(tid, f, x, y, 310.0) for tid, f, x, y in trackpy_rows(TWO)])
    _check(read_tracks(utrack))
    icy = write_table(tmp_path / "icy.csv", "trackID,t,x,y,z",
                      [(float(tid), float(f), x, y, 0.0) for tid, f, x, y in trackpy_rows(TWO)])
    _check(read_tracks(icy))
    icy_t_seconds = write_table(tmp_path / "icy_s.csv", "Track #,t,x,y",
                                [(tid, f * 0.05, x, y) for tid, f, x, y in trackpy_rows(TWO)])
    with pytest.raises(TrackFileError) as e:  # t in seconds is no frame number
        read_tracks(icy_t_seconds)
    one_line(e, "icy_s.csv", "frame number", "columns={'track': 'Track #', 'frame': '...'")
    blocks = tmp_path / "track_processor_ICY.csv"  # Icy's Excel export saved as CSV: one block per track
    blocks.write_text(",,,,,\ntrack #,0.0,,,,\n,,t,x,y,z\n,,0.0,129.8,995.0,0.0\n,,1.0,129.8,995.1,0.0\n")
    with pytest.raises(TrackFileError) as e:
        read_tracks(blocks)
    one_line(e, "track_processor_ICY.csv", "Icy", "TrackID, t, x, y")


def test_thunderstorm_and_smap_in_nanometres(tmp_path):
    """Localisation tables in nm: ThunderSTORM (quoted header, floats) linked by trackpy, and SMAP's xnm/ynm."""
    header = ('"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]",'
              '"bkgstd [photon]","uncertainty [nm]"')
    rows = [(float(k + 1), float(f), x * 107.0, y * 107.0, 130.0, 900.0, 4.0, 2.0, 20.0)
            for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))]
    linked = write_table(tmp_path / "ts_linked.csv", header + ',"particle"',
                         [r + (tid,) for r, (tid, *_) in zip(rows, trackpy_rows(TWO))])
    _check(read_tracks(linked, pixel_size=0.107))  # nm / 1000 / (µm per px)
    with pytest.raises(TrackFileError) as e:
        read_tracks(linked)
    one_line(e, "ts_linked.csv", "nm", "x [nm]", "pixel_size=")
    with pytest.raises(TrackFileError) as e:  # a unit that contradicts the header is refused
        read_tracks(linked, units="um", pixel_size=0.107)
    one_line(e, "ts_linked.csv", "units='um'", "x [nm]", "nm")
    _check(read_tracks(linked, units="nanometers", pixel_size=0.107))  # agreeing is fine
    unlinked = write_table(tmp_path / "ts.csv", header, rows)
    with pytest.raises(TrackFileError) as e:  # its id is one per localisation, not a track id
        read_tracks(unlinked, pixel_size=0.107)
    one_line(e, "ts.csv", "no track id column", "ink the localisations", "columns={'track': '...'")
    smap = write_table(tmp_path / "smap.csv", "ID,frame,xnm,ynm,znm,phot,bg,locprecnm,track_id",
                       [(k, f, x * 100.0, y * 100.0, 0, 1000, 5, 12, tid)
                        for k, (tid, f, x, y) in enumerate(trackpy_rows(TWO))])
    _check(read_tracks(smap, pixel_size=0.1))


def test_freetrace_is_tidy_and_3d_refused(tmp_path):
    """FreeTrace writes traj_idx,frame,x,y,z: read as a tidy table so that a varying z is refused."""
    rows = [(tid, f, x, y, 0.0) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "cell_traces.csv", "traj_idx,frame,x,y,z", rows)
    assert detect_format(p) == "tidy"
    _check(read_tracks(p))
    rows[30] = rows[30][:4] + (0.4,)
    p = write_table(tmp_path / "cell3d_traces.csv", "traj_idx,frame,x,y,z", rows)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "cell3d_traces.csv", "3-D", "line 32")


def test_ambiguous_columns_decided_by_content_or_refused(tmp_path):
    rows = [(tid, f"Track_{tid}", f, x, y) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "two_ids.csv", "trajectory,track,frame,x,y", rows)
    _check(read_tracks(p))  # 'track' holds text labels: the whole-number 'trajectory' is the track id
    rows = [(tid, tid + 100, f, x, y) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "both.csv", "particle,track_id,frame,x,y", rows)
    with pytest.raises(TrackFileError) as e:
        read_tracks(p)
    one_line(e, "both.csv", "line 1", "'particle', 'track_id'", "track id", "columns={'track': 'particle'}")
    tr = read_tracks(p, columns="track=track_id")  # the fix, as a string (what --columns passes)
    assert tr.ids == ["103", "111"]


def test_columns_string_and_units_vocabulary(tmp_path):
    rows = [(f, f"cell{tid}", x * 160.0, y * 160.0) for tid, f, x, y in trackpy_rows(TWO)]
    p = write_table(tmp_path / "custom.tsv", "t\tcell\tpx\tpy", rows, sep="\t")
    tr = read_tracks(p, columns=" track = cell, frame=t ,x=px,y=py", units="nanometer", pixel_size=0.16)
    assert tr.ids == ["cell3", "cell11"] and tr.format == "tidy"
    np.testing.assert_allclose(_xy(tr, "cell11"), TWO[11][1], rtol=1e-9)
    for bad in ("track=cell,frame", "track=cell,time=t"):
        with pytest.raises(ValueError) as e:
            read_tracks(p, columns=bad)
        one_line(e, "columns", "columns={'track': 'particle'")
    with pytest.raises(ValueError) as e:
        read_tracks(p, columns="track=cell", units="furlong")
    one_line(e, "furlong", "px, nm or um")


def test_dataframe_columns_recognised():
    df = pd.DataFrame([(tid, f, x * 100.0, y * 100.0) for tid, f, x, y in trackpy_rows(TWO)],
                      columns=["trajectory", "frame", "x [nm]", "y [nm]"], index=np.arange(100, 147))
    _check(tracks_from_dataframe(df, pixel_size=0.1))
    with pytest.raises(TrackFileError) as e:
        tracks_from_dataframe(df)
    one_line(e, "<DataFrame>", "nm", "pixel_size=")
