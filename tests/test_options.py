"""One options table for the estimator, the command line, config files and sweep specs."""

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mgdl_convex import MultigradeRegressor
from mgdl_convex.cli import build_parser
from mgdl_convex.options import FIT, PARAMS, Interval, OneOf, OptionError, Sizes, estimator_params


def test_every_estimator_parameter_is_in_the_table_with_its_default():
    signature = inspect.signature(MultigradeRegressor).parameters
    assert list(signature) == list(PARAMS)
    for name, p in signature.items():
        assert p.default == PARAMS[name].default, name


def _cli_options(argv):
    from mgdl_convex.cli import _options

    return _options(build_parser().parse_args(argv))


def test_command_line_and_estimator_share_every_default():
    """carry_input, beta_ratio, ...: a fit from the command line without options is the estimator's default."""
    opts = _cli_options(["fit", "--target", "fangxu1", "--out", "o"])
    assert MultigradeRegressor(**estimator_params(opts)).get_params() == MultigradeRegressor().get_params()
    assert opts["carry_input"] is MultigradeRegressor().carry_input is True


def test_every_fit_option_has_a_flag_documented_in_docs_and_the_command_line_wins_over_the_config(tmp_path):
    help_text = build_parser()._subparsers._group_actions[0].choices["fit"].format_help()
    docs = (Path(__file__).parents[1] / "docs" / "cli.md").read_text()
    for key in FIT.options:
        flag = "--solver-option" if key == "solver_options" else "--" + key.replace("_", "-")
        assert flag in help_text and f"| `{flag}" in docs, flag
    cfg = tmp_path / "run.toml"
    cfg.write_text('target = "sin100"\nwidth = 5\nbeta = 1\nsamples = 30\n')
    opts = _cli_options(["fit", "--config", str(cfg), "--width", "7", "--no-carry-input", "--out", "o"])
    assert (opts["width"], opts["beta"], opts["samples"], opts["carry_input"]) == (7, 1.0, [30], False)
    assert isinstance(opts["beta"], float)  # an int in a file where a number is expected
    with pytest.raises(OptionError, match="command line: width must be an integer >= 1, got 0"):
        _cli_options(["fit", "--target", "sin100", "--width", "0", "--out", "o"])


@pytest.mark.parametrize(
    "constraint, good, bad, text",
    [
        (Interval(int, 1), [1, 7, np.int64(3)], [0, 1.0, True, "2", None], "an integer >= 1"),
        (Interval(float, 0, 1, "neither"), [0.5, 1e-9, np.float64(0.2)], [0, 1, np.nan, True], "a number in (0, 1)"),
        (Interval(float, 0, 1, "right"), [1, 0.3], [0.0, 1.1], "a number in (0, 1]"),
        (Interval(float, 0, None, "left"), [0.0, 5], [-1e-300, np.inf], "a non-negative number"),
        (Interval(float, 0, None, "neither"), [1e-300], [0.0], "a positive number"),
        (OneOf("a", "b"), ["a"], ["c", 1], "one of 'a', 'b'"),
        (Sizes(), [2, [2, 3]], [1, [], [2, 1], 2.0], "an integer >= 2 or a non-empty list of them"),
    ],
)
def test_constraints_accept_exactly_what_they_say(constraint, good, bad, text):
    assert str(constraint) == text
    assert all(constraint.accepts(v) for v in good)
    assert not any(constraint.accepts(v) for v in bad)


def test_file_values_are_coerced_and_unknown_keys_named():
    assert FIT.check("beta", 1, "f") == 1.0 and FIT.check("samples", 64, "f") == [64]
    assert FIT.check("carry_input", False, "f") is False
    with pytest.raises(OptionError, match="f: carry_input must be True or False, got 1"):
        FIT.check("carry_input", 1, "f")
    with pytest.raises(OptionError, match="unknown key 'widht' in f; known: target, domain"):
        FIT.check("widht", 3, "f")
    with pytest.raises(OptionError, match="f: no target given"):
        FIT.complete({"width": 3}, "f")


def test_python_3_10_reads_toml_with_tomli(tmp_path):
    """Without tomllib (Python 3.10), the same files are read through tomli, errors included."""
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text('kind = "fit"\n[base]\ntarget = "fangxu1"\n[grid]\nwidth = [3, 4]\n')
    bad.write_text("width = = 3\n")
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["tomllib"] = None  # as on Python 3.10: import tomllib fails
        from mgdl_convex.options import FIT, OptionError, read_toml, tomllib
        from mgdl_convex.sweep_spec import load_spec
        assert tomllib.__name__ == "tomli", tomllib
        assert read_toml({str(good)!r})["grid"] == {{"width": [3, 4]}}
        assert len(load_spec({str(good)!r}, {{"fit": FIT}}).cells) == 2
        try:
            read_toml({str(bad)!r})
        except OptionError as e:
            assert "is not valid TOML" in str(e), e
        else:
            raise SystemExit("no error for invalid TOML")
        print("tomli ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "tomli ok" in proc.stdout, proc.stderr
