import json

import pytest

from andimamba.cli import main


def test_simulate_writes_layout_and_is_deterministic(tmp_path, capsys):
    for out in ("a", "b"):
        rc = main(["simulate", "--model", "immobile_traps", "--n-fovs", "2", "--seed", "4", "--out", str(tmp_path / out), "--no-progress"])
        assert rc == 0
    a, b = tmp_path / "a/track_2/exp_0", tmp_path / "b/track_2/exp_0"
    for name in ("trajs_fov_0.csv", "trajs_fov_1.csv", "traj_labs_fov_1.txt", "ensemble_labels.txt"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "override, message",
    [
        ({"alphas": [[2.5, 0.01]]}, "alphas[0] mean=2.5"),
        ({"alphas": [[0.0, 0.01]]}, "alphas[0] mean=0.0"),
        ({"Ks": [[-1.0, 0.0]]}, "Ks[0] mean=-1.0"),
        ({"T": 1}, "T=1"),
        ({"M": [[0.5, 0.6], [0.1, 0.9]]}, "M="),
        ({"bogus": 1}, "unknown parameter(s) bogus"),
    ],
)
def test_simulate_bad_parameters_one_line_error_and_no_output(tmp_path, capsys, override, message):
    pfile = tmp_path / "p.json"
    pfile.write_text(json.dumps(override))
    out = tmp_path / "out"
    model = "multi_state" if "M" in override else "single_state"
    rc = main(["simulate", "--model", model, "--out", str(out), "--params", str(pfile), "--no-progress"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert message in err and "allowed" in err or "unknown" in err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_simulate_unknown_model_and_existing_output(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["simulate", "--model", "nope", "--out", str(tmp_path)])
    assert e.value.code == 2
    out = tmp_path / "o"
    assert main(["simulate", "--model", "single_state", "--n-fovs", "1", "--out", str(out), "--no-progress"]) == 0
    before = (out / "track_2/exp_0/trajs_fov_0.csv").read_bytes()
    capsys.readouterr()
    assert main(["simulate", "--model", "single_state", "--n-fovs", "1", "--seed", "9", "--out", str(out), "--no-progress"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "track_2/exp_0/trajs_fov_0.csv").read_bytes() == before


@pytest.mark.parametrize(
    "args, not_loaded",
    [
        (["simulate", "--help"], ("torch", "pandas", "numba")),
        (["simulate", "--model", "single_state", "--n-fovs", "1", "--no-progress"], ("torch", "pandas", "numba")),
        (["simulate", "--model", "immobile_traps", "--n-fovs", "1", "--no-progress"], ("torch", "pandas")),
    ],
)
def test_simulate_start_up_imports_nothing_it_does_not_need(tmp_path, args, not_loaded):
    """Start-up of `andimamba simulate` (issue 8): no torch, no pandas; numba only for the models with kernels."""
    import subprocess
    import sys

    if "--help" not in args:
        args = args + ["--out", str(tmp_path / "out")]
    code = (
        "import sys, contextlib, io\n"
        "from andimamba.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(','.join(m for m in {not_loaded!r} if m in sys.modules))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout.strip().splitlines()[-1:] in ([], [""]), f"imported: {p.stdout.strip()}"
