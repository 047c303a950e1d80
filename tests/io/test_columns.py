"""Column and unit vocabulary: the headers the common tools write, the columns= option, units."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from andimamba.io import TrackFileError, parse_columns, parse_units, recognise_columns
from andimamba.io.columns import read_name
from andimamba.io.errors import spelling
from track_files import one_line


# ----------------------------------------------------------------------------- units
@pytest.mark.parametrize("unit, spellings", [
    ("px", ["px", "PX", "pix", "pixel", "Pixels", "(pixel)", "[px]"]),
    ("nm", ["nm", "NM", "nanometer", "nanometers", "nanometre", "[nm]"]),
    ("um", ["um", "µm", "μm", "micron", "Microns", "micrometer", "micrometres", "(micron)", " µm "]),
])
def test_parse_units_spellings(unit, spellings):
    assert {parse_units(s) for s in spellings} == {unit}
    assert parse_units(None) is None and parse_units("") is None


def test_parse_units_unknown_is_one_line_with_the_option():
    with pytest.raises(ValueError) as e:
        parse_units("mm")
    one_line(e, "'mm'", "px, nm or um", "units='px'")
    with spelling("cli"), pytest.raises(ValueError) as e:
        parse_units("inch")
    one_line(e, "--units px")


# ----------------------------------------------------------------------------- columns=
def test_parse_columns_mapping_and_string():
    assert parse_columns(None) == {} and parse_columns("") == {}
    assert parse_columns({"track": "cell", "frame": "t"}) == {"track": "cell", "frame": "t"}
    assert parse_columns(" track = Track # , frame=Frame,x=x [nm],y=y [nm] ,") == {
        "track": "Track #", "frame": "Frame", "x": "x [nm]", "y": "y [nm]"}
    assert parse_columns("z=POSITION_Z") == {"z": "POSITION_Z"}


@pytest.mark.parametrize("spec, needle", [
    ("track=cell,frame", "'frame' has no '='"),
    ("track=cell,time=t", "unknown key 'time'"),
    ({"particle": "p"}, "unknown key 'particle'"),
    ("track=,frame=f", "no column name given for 'track'"),
    ("x=a,x=b", "'x' is given twice"),
])
def test_parse_columns_errors(spec, needle):
    with pytest.raises(ValueError) as e:
        parse_columns(spec)
    one_line(e, needle, "columns={'track': 'particle', 'frame': 'frame', 'x': 'x', 'y': 'y'}")
    with spelling("cli"), pytest.raises(ValueError) as e:
        parse_columns(spec)
    one_line(e, needle, "--columns track=particle,frame=frame,x=x,y=y")


# ----------------------------------------------------------------------------- header names
@pytest.mark.parametrize("name, expected", [
    ("x [nm]", ("x", "nm")), ("x (µm)", ("x", "um")), ('"y [nm]"', ("y", "nm")),
    ("POSITION_X (micron)", ("positionx", "um")), ("xnm", ("x", "nm")), ("x_um", ("x", "um")),
    ("Track #", ("track", None)), ("TRACK_ID", ("trackid", None)), ("traj_idx", ("trajidx", None)),
    ("x (corrected)", ("x", None)), ("x_detect", ("xdetect", None)), ("", ("", None)),
])
def test_read_name(name, expected):
    assert read_name(name)[:2] == expected


# ----------------------------------------------------------------------------- the tools' headers
TOOLS = {
    "trackpy": (",y,x,mass,size,ecc,signal,raw_mass,ep,frame,particle",
                ("particle", "frame", "x", "y"), None, None),
    "quot": (("y,x,I0,bg,y_err,x_err,I0_err,bg_err,H_det,error_flag,snr,rmse,n_iter,y_detect,x_detect,frame,loc_idx,"
              "trajectory,subproblem_n_traj,subproblem_n_locs"), ("trajectory", "frame", "x", "y"), None, None),
    "saspt": ("trajectory,frame,y,x", ("trajectory", "frame", "x", "y"), None, None),
    "spot-on": ("frame,t,trajectory,x,y", ("trajectory", "frame", "x", "y"), None, "um"),
    "mosaic": (" ,Trajectory,Frame,x,y,z,m0,m1,m2,m3,m4,NPscore", ("Trajectory", "Frame", "x", "y"), None, None),
    "u-track": ("TrackID,Frame,X,Y,A", ("TrackID", "Frame", "X", "Y"), None, None),
    "icy": ("Track #,t,x,y,z", ("Track #", "t", "x", "y"), None, None),
    "thunderstorm": (('"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]",'
                      '"bkgstd [photon]","uncertainty [nm]","particle"'), ("particle", "frame", "x [nm]", "y [nm]"),
                     "nm", None),
    "smap": ("ID,frame,xnm,ynm,znm,phot,bg,locprecnm,track_id", ("track_id", "frame", "xnm", "ynm"), "nm", None),
    "freetrace": ("traj_idx,frame,x,y,z", ("traj_idx", "frame", "x", "y"), None, None),
    "trackmate-one-header": ("TRACK_ID,FRAME,POSITION_X (micron),POSITION_Y (micron)",
                             ("TRACK_ID", "FRAME", "POSITION_X (micron)", "POSITION_Y (micron)"), "um", None),
}


@pytest.mark.parametrize("tool", list(TOOLS))
def test_recognised_by_name(tool):
    header, names, unit, default = TOOLS[tool]
    cols = [c.strip().strip('"') for c in header.split(",")]
    m = recognise_columns(cols)
    assert tuple(m.names[r] for r in ("track", "frame", "x", "y")) == names
    assert (m.unit, m.default_unit) == (unit, default)
    if "z" in cols or "znm" in cols:
        assert m.names["z"] in ("z", "znm")


def test_content_decides_between_same_tier_names():
    header = ["trajectory", "track", "frame", "x", "y"]
    data = pd.DataFrame({"trajectory": [1, 1, 2], "track": ["T1", "T1", "T2"], "frame": [0, 1, 0],
                         "x": 0.0, "y": 0.0})
    assert recognise_columns(header, data).names["track"] == "trajectory"
    data["track"] = [5, 5, 6]
    with pytest.raises(TrackFileError) as e:
        recognise_columns(header, data, path="a.csv", line=1)
    one_line(e, "a.csv (line 1)", "'trajectory', 'track'", "track id", "columns={'track': 'trajectory'}")
    assert recognise_columns(header, data, columns="track=track").names["track"] == "track"


def test_second_tier_names_need_fitting_content():
    header = ["id", "t", "x", "y"]
    ok = pd.DataFrame({"id": [4, 4, 4, 9, 9, 9], "t": [0.0, 1.0, 2.0, 0.0, 1.0, 2.0], "x": 0.0, "y": 0.0})
    assert recognise_columns(header, ok).names == {"track": "id", "frame": "t", "x": "x", "y": "y"}
    seconds = ok.assign(t=ok["t"] * 0.05)
    with pytest.raises(TrackFileError) as e:
        recognise_columns(header, seconds, path="s.csv")
    one_line(e, "s.csv", "frame number", "found columns id, t, x, y", "'frame': '...'")
    unique_ids = ok.assign(id=np.arange(6), t=[0, 1, 2, 3, 4, 5])  # ThunderSTORM: one id per localisation
    with pytest.raises(TrackFileError) as e:
        recognise_columns(header, unique_ids, path="ts.csv")
    one_line(e, "ts.csv", "no track id column", "trackpy.link", "'track': '...'")
    both = pd.DataFrame({"frame": [0, 1], "t": [0.0, 0.1], "particle": 1, "x": 0.0, "y": 0.0})
    assert recognise_columns(list(both), both).names["frame"] == "frame"  # a first-tier name wins


def test_header_problems():
    with pytest.raises(TrackFileError) as e:
        recognise_columns(["particle", "frame", "x [nm]", "y [um]"], path="u.csv")
    one_line(e, "u.csv", "different units", "'x [nm]'", "'y [um]'")
    with pytest.raises(TrackFileError) as e:
        recognise_columns(["particle", "frame", "x", "y"], columns={"x": "xc"}, path="g.csv", line=1)
    one_line(e, "g.csv (line 1)", "missing column(s) xc", "found columns particle, frame, x, y",
             "columns={'x': 'xc'}")
    with pytest.raises(TrackFileError) as e:
        recognise_columns(["particle", "frame", "x", "x", "y"], path="d.csv")
    one_line(e, "d.csv", "'x', 'x'", "x position")
    with pytest.raises(TrackFileError) as e:
        recognise_columns(["particle", "frame", "x", "y"], columns={"track": "x"}, path="r.csv")
    one_line(e, "r.csv", "one column is used for two roles")
    with spelling("cli"), pytest.raises(TrackFileError) as e:
        recognise_columns(["cell", "frame", "x", "y"], path="c.csv")
    one_line(e, "c.csv", "track id", "--columns track=...,frame=frame,x=x,y=y")
