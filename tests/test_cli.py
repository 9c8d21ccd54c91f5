import json

import numpy as np

from mgdl_convex.cli import main


def test_fit_writes_model_summary_and_plots(tmp_path, capsys):
    out = tmp_path / "run"
    rc = main(
        ["-q", "fit", "--target", "fangxu1", "--grades", "2", "--width", "6", "--samples", "40", "--out", str(out)]
    )
    assert rc == 0
    for name in ("model.npz", "summary.json", "fit.png", "residuals.png", "losses.png"):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["grades"]) == 2 and summary["grades"][0]["status"] in ("optimal", "optimal_inaccurate")
    capsys.readouterr()
    assert main(["predict", str(out / "model.npz"), "--x", "0.25", "0.5"]) == 0
    values = [float(v) for v in capsys.readouterr().out.split()]
    assert len(values) == 2 and np.all(np.isfinite(values))


def test_config_file_and_its_errors(tmp_path, capsys):
    cfg = tmp_path / "run.toml"
    cfg.write_text('target = "sin100"\ngrades = 1\nwidth = 5\nsamples = 30\n')
    assert main(["-q", "fit", "--config", str(cfg), "--out", str(tmp_path / "a")]) == 0
    cfg.write_text('target = "sin100"\nwidht = 5\n')
    assert main(["fit", "--config", str(cfg), "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'widht'" in err and str(cfg) in err
    cfg.write_text('target = "sin100"\ngrades = "two"\n')
    assert main(["fit", "--config", str(cfg), "--out", str(tmp_path / "c")]) == 2
    assert "grades must be an integer >= 1, got 'two'" in capsys.readouterr().err


def test_bad_arguments_exit_2_and_targets_lists(capsys):
    assert main(["fit", "--grades", "x", "--out", "o"]) == 2
    assert main(["fit", "--out", "o"]) == 2
    assert "no target" in capsys.readouterr().err
    assert main(["targets"]) == 0
    listing = capsys.readouterr().out
    assert "fangxu1" in listing and "osc2d" in listing
    assert main(["fit", "--target", "nope", "--out", "o"]) == 1
    assert "unknown target" in capsys.readouterr().err
