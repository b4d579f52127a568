"""Configuration checks: every field's type and range, one VprConfigError line naming the field."""

import math
import re

import pytest

from snncontrol.cli import main
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.errors import VprConfigError


def test_a_presentation_lasts_at_least_one_time_step_and_the_rest_is_not_negative():
    """present 0.4 ms rounded to 0 steps of 1 ms: training showed nothing and learned nothing, silently."""
    for present in (0.4, 0.5):  # 0.5 rounds to 0 steps too
        message = f"module.present must last at least one time step (dt 1.0 ms), got {present} ms"
        with pytest.raises(VprConfigError, match=re.escape(message)):
            ModuleConfig(present=present)
    assert ModuleConfig(present=0.6).steps(0.6) == 1 and ModuleConfig(present=0.4, dt=0.1).steps(0.4) == 4
    with pytest.raises(VprConfigError, match=re.escape("module.rest must be >= 0 ms, got -1.0 ms")):
        ModuleConfig(rest=-1.0)
    assert ModuleConfig(rest=0.0).steps(0.0) == 0


def test_the_cli_refuses_a_presentation_shorter_than_a_step_in_one_line(tmp_path, capsys):
    argv = ["vpr", "train", "--reference", str(tmp_path), "--out", str(tmp_path / "out"), "--present-ms", "0.4"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "module.present must last at least one time step" in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tau_theta": math.inf}, "module.tau_theta must be a finite number, got inf"),  # JSON cannot hold it
        ({"n_exc": 2.5}, "module.n_exc must be an integer >= 1, got 2.5"),
        ({"patch": "7"}, "module.patch must be a finite number, got '7'"),
        # finite but beyond what a module computes with: every confidence NaN (vpr eval: Recall@1 0.000), an
        # overflow traceback, a "Maximum allowed dimension exceeded"
        ({"tau_e": 1e19}, "module.tau_e must be 0.001 .. 1e+09 ms, got 1e+19"),
        ({"tau_ge": 1e-300}, "module.tau_ge must be 0.001 .. 1e+09 ms, got 1e-300"),
        ({"v_rest_e": 1e300}, "module.v_rest_e must be within +-1000 mV, got 1e+300"),
        ({"patch": 10**19}, "module.patch must be at most 4096 pixels, got 10000000000000000000"),
        ({"w_ie": -1e7}, "module.w_ie must be within +-1e+06, got -10000000.0"),
    ],
)
def test_module_fields_are_finite_and_counts_integers(kwargs, message):
    with pytest.raises(VprConfigError, match=re.escape(message)):
        ModuleConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"places_per_module": "5"}, "train.places_per_module must be an integer >= 1, got '5'"),
        ({"epochs": True}, "train.epochs must be an integer >= 1, got True"),
        ({"threshold": -1}, "train.threshold must be an integer >= 0, got -1"),
        ({"tolerance": None}, "train.tolerance must be an integer >= 0, got None"),
        ({"thresholds": (None, 1)}, "train.thresholds must be a non-empty list of integers >= 0, got (None, 1)"),
        ({"thresholds": ()}, "train.thresholds must be a non-empty list of integers >= 0, got ()"),
        ({"thresholds": "05"}, "train.thresholds must be a non-empty list of integers >= 0, got '05'"),
    ],
)
def test_train_fields_are_checked_as_module_fields_are(kwargs, message):
    """A TrainConfig had no type checks: None or "5" gave a TypeError traceback, 2.5 places per module a shape
    error."""
    with pytest.raises(VprConfigError, match=re.escape(message)):
        TrainConfig(**kwargs)


def test_a_list_of_thresholds_is_kept_as_a_tuple():
    assert TrainConfig(thresholds=[0, 5]).thresholds == (0, 5)
