"""Controller artifacts: round trip, atomic writes, and every kind of bad file -> one clear line."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import Metadata, git_revision, load_controller, read_artifact, save_controller
from snncontrol.errors import ArtifactError, SpecError
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.neurons import LIF
from snncontrol.spec import NetworkSpec

IO = IOAdapters(
    ObservationAdapter("setpoint_error", measurement=0, setpoint=1), ActionAdapter("affine_clip", low=-3.3, high=3.3)
)


def small_spec() -> NetworkSpec:
    return NetworkSpec(
        n_inputs=1, name="demo", layers=(paired_encoding("enc", 3), Layer("h", 5, LIF()), leaky_readout())
    )


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    spec = small_spec()
    genome = spec.parameters.sample(1, np.random.default_rng(0))[0]
    return save_controller(tmp_path / "ctrl", spec, genome, Metadata(seed=3, fitness=0.5), io=IO)


def test_round_trip_preserves_spec_genome_metadata_io_and_behaviour(artifact: Path) -> None:
    spec, genome, meta, io = read_artifact(artifact)
    assert spec.to_dict() == small_spec().to_dict()
    assert meta.seed == 3 and meta.fitness == 0.5 and meta.created
    assert io == IO
    controller = load_controller(artifact)
    xs = torch.linspace(-1, 1, 50).reshape(50, 1, 1)
    out, _ = controller.network.rollout(controller.params, xs, controller.init_state())
    again = load_controller(artifact)
    assert torch.equal(out, again.network.rollout(again.params, xs, again.init_state())[0])
    np.testing.assert_array_equal(controller.genome, genome)
    assert float(io.action(np.array([10.0]))[0]) == 3.3
    assert float(io.observation(np.array([[0.5, 1.0]]))[0, 0]) == 0.5


def test_saving_over_an_artifact_replaces_it_whole_and_leaves_no_temporaries(artifact: Path) -> None:
    spec = small_spec()
    save_controller(artifact, spec, spec.parameters.initial(), Metadata(seed=9))
    assert read_artifact(artifact)[2].seed == 9
    assert sorted(p.name for p in artifact.parent.iterdir()) == ["ctrl"]


def test_a_failed_save_keeps_the_previous_artifact(artifact: Path) -> None:
    spec = small_spec()
    with pytest.raises(TypeError):
        save_controller(artifact, spec, spec.parameters.initial(), Metadata(extra={"bad": object()}))
    assert read_artifact(artifact)[2].seed == 3
    assert sorted(p.name for p in artifact.parent.iterdir()) == ["ctrl"]


def _edit_json(path: Path, change) -> None:
    doc = json.loads((path / "controller.json").read_text())
    change(doc)
    (path / "controller.json").write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda p: (p / "controller.json").unlink(), "missing controller.json"),
        (lambda p: (p / "controller.json").write_text('{"schema": '), "not valid JSON"),
        (lambda p: (p / "controller.json").write_bytes(b"\xff\xfe\x00"), "not UTF-8"),
        (lambda p: (p / "controller.json").write_text("[1, 2]"), "JSON object"),
        (lambda p: _edit_json(p, lambda d: d.update(schema="other/9")), "unknown schema"),
        (lambda p: _edit_json(p, lambda d: d["spec"]["layers"][1].update(size=-4)), "size must be an integer"),
        (lambda p: (p / "controller.json").write_text("[" * 100_000 + "]" * 100_000), "nested deeper than 64"),
        (lambda p: _edit_json(p, lambda d: d["spec"].update(dt=1e308)), "dt must be .* at most 3600"),
        (lambda p: _edit_json(p, lambda d: d["spec"]["layers"][1]["input"].update(delay=10**9)), "delay must lie in"),
        (lambda p: _edit_json(p, lambda d: d["spec"]["layers"][1]["neuron"].update(refractory=10**15)), "refractory"),
        (lambda p: _edit_json(p, lambda d: d["spec"]["layers"][1].update(size=10**12)), "size must be an integer"),
        (lambda p: _edit_json(p, lambda d: d["spec"]["layers"][1]["neuron"].update(kind="rnn")), "neuron.kind"),
        (lambda p: _edit_json(p, lambda d: d.pop("params_sha256")), "missing field"),
        (lambda p: _edit_json(p, lambda d: d["metadata"].update(evil=1)), "unknown field"),
        (lambda p: (p / "params.safetensors").write_bytes((p / "params.safetensors").read_bytes()[:-9]), "hash"),
        (lambda p: (p / "params.safetensors").write_bytes(pickle.dumps({"genome": [1.0]})), "hash"),
    ],
)
def test_damaged_artifacts_give_one_line_errors(artifact: Path, damage, message: str) -> None:
    damage(artifact)
    with pytest.raises(ArtifactError, match=message) as info:
        load_controller(artifact)
    assert "\n" not in str(info.value) and str(artifact) in str(info.value)


def test_params_that_match_a_forged_hash_are_still_validated(artifact: Path) -> None:
    import hashlib

    blob = pickle.dumps({"genome": [1.0]})  # never unpickled: safetensors parsing refuses it
    (artifact / "params.safetensors").write_bytes(blob)
    _edit_json(artifact, lambda d: d.update(params_sha256=hashlib.sha256(blob).hexdigest()))
    with pytest.raises(ArtifactError, match="not a valid safetensors file"):
        load_controller(artifact)


@pytest.mark.parametrize(
    ("forge", "message"),
    [  # within bounds, but integers: a different controller
        (lambda g: {"genome": np.round(g).astype(np.int64)}, r"the genome must be float64, got int64"),
        # the docstring's one float64 tensor: a float16 genome loaded rounded, other tensors were ignored
        (lambda g: {"genome": g.astype(np.float16)}, r"the genome must be float64, got float16"),
        (lambda g: {"genome": g.astype(np.float32)}, r"the genome must be float64, got float32"),
        (lambda g: {"genome": g, "evil": np.zeros(3)},
         r"must hold one 1-D tensor 'genome' and nothing else, found 'evil' \[3\], 'genome'"),
    ],
    ids=["int64", "float16", "float32", "extra-tensor"],
)
def test_a_params_file_other_than_one_float64_genome_is_refused_naming_the_file(artifact: Path, forge, message) -> None:
    import hashlib

    from safetensors.numpy import save

    blob = save(forge(read_artifact(artifact)[1]))
    (artifact / "params.safetensors").write_bytes(blob)
    _edit_json(artifact, lambda d: d.update(params_sha256=hashlib.sha256(blob).hexdigest()))
    with pytest.raises(ArtifactError, match=r"params\.safetensors:? " + message):
        load_controller(artifact)


def test_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="not found"):
        load_controller(tmp_path / "nope")


def test_cli_info_describes_an_artifact_and_reports_bad_ones_in_one_line(artifact: Path, tmp_path: Path) -> None:
    ok = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "info", str(artifact)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "neurons" in ok.stdout and "layer h" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "info", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr and "not found" in bad.stderr


def test_adapters_are_checked_against_plant_and_network_sizes() -> None:
    IO.check(2, 1, 1, 1, "the blimp plant")
    with pytest.raises(SpecError, match=r"makes 2 input.*the network takes 1"):
        IOAdapters().check(2, 1, 1, 1, "the blimp plant")
    with pytest.raises(SpecError, match=r"2 output.*takes 1 action"):
        IO.check(2, 1, 1, 2, "the blimp plant")


def test_readings_outside_the_valid_range_become_missing_samples() -> None:
    lidar = ObservationAdapter("setpoint_error", valid=(0.0, 12.0))  # a lost return reads as 12 m
    error = lidar(np.array([[0.9, 1.0], [12.0, 1.0], [np.nan, 1.0], [-0.1, 1.0]]))
    assert np.isclose(error[0, 0], 0.1) and np.isnan(error[1:, 0]).all()
    torch_error = lidar(torch.tensor([[0.9, 1.0], [12.0, 1.0]]))
    assert isinstance(torch_error, torch.Tensor) and torch.isnan(torch_error[1, 0])
    joints = ObservationAdapter("select", indices=(0, 2), scale=2.0, valid=(-1.0, 1.0))
    np.testing.assert_array_equal(joints(np.array([[0.5, 9.0, 3.0]])), [[1.0, np.nan]])
    assert IOAdapters.from_dict(IOAdapters(lidar).to_dict()).observation == lidar
    with pytest.raises(SpecError, match="valid"):
        ObservationAdapter("setpoint_error", valid=(1.0, 0.0))


def test_a_select_adapter_with_rates_reads_each_channel_lead_seconds_ahead() -> None:
    # [body angle, joint 1, joint 2, body rate, joint rate 1, joint rate 2]: rad and rad/s
    obs = np.array([[9.0, 0.5, -0.2, 9.0, 2.0, -1.0]])
    spindle = ObservationAdapter("select", indices=(1, 2), rates=(4, 5), lead=0.25, scale=0.5, offset=0.1)
    np.testing.assert_allclose(spindle(obs), [[(0.5 + 0.5) * 0.5 + 0.1, (-0.2 - 0.25) * 0.5 + 0.1]])
    torch_x = spindle(torch.as_tensor(obs))
    assert isinstance(torch_x, torch.Tensor) and torch.allclose(torch_x, torch.as_tensor(spindle(obs)))
    assert spindle.n_inputs(6) == 2 and IOAdapters.from_dict(IOAdapters(spindle).to_dict()).observation == spindle
    # `valid` bounds the angles (rad), not their rates (rad/s: 2.0 rad/s is no lost sample); a non-finite rate is
    lost = ObservationAdapter("select", indices=(1, 2), rates=(4, 5), lead=0.25, valid=(-1.5, 1.5))
    assert np.isnan(lost(obs)).tolist() == [[False, False]] and lost.valid_elements(6) == (1, 2)
    for missing in (np.nan, np.inf):
        assert np.isnan(lost(np.where(np.arange(6) == 5, missing, obs))).tolist() == [[False, True]]
        assert np.isnan(lost(np.where(np.arange(6) == 1, 1.6, obs))).tolist() == [[True, False]]
    with pytest.raises(SpecError, match="do not fit an observation of 5"):
        spindle.n_inputs(5)  # rate index 5
    for bad, match in (
        ({"rates": (4,)}, "one rate index per selected channel"),
        ({"rates": ()}, "needs rates"),
        ({"lead": [0.1, 0.2]}, "lead must be one number"),
    ):
        with pytest.raises(SpecError, match=match):
            ObservationAdapter("select", indices=(1, 2), **{"rates": (4, 5), "lead": 0.25, **bad})
    with pytest.raises(SpecError, match="need kind 'select'"):
        ObservationAdapter("identity", rates=(1,))


def test_demo_refuses_a_controller_that_does_not_fit_the_blimp_in_one_line(tmp_path: Path) -> None:
    spec = small_spec()
    artifact = save_controller(tmp_path / "no_io", spec, spec.parameters.initial())  # identity adapters
    result = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "demo", "--artifact", str(artifact), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "makes 2 input" in result.stderr


def test_the_recorded_git_revision_says_when_the_tree_differs_from_its_commit(tmp_path):
    """A run from uncommitted code recorded a commit without that code (a shipped swimmer named one lacking its
    config): the revision carries +dirty then."""

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True,
                       capture_output=True)

    git("init", "-q")
    (tmp_path / "config.yaml").write_text("a: 1\n")
    git("add", "config.yaml")
    git("commit", "-qm", "c")
    clean = git_revision(tmp_path)
    assert clean is not None and len(clean) == 40
    (tmp_path / "new.yaml").write_text("b: 2\n")  # an untracked input counts
    assert git_revision(tmp_path) == clean + "+dirty"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ObservationAdapter("identity", scale=(2.0,)), "observation adapter 'identity' does not use scale"),
        (lambda: ObservationAdapter("setpoint_error", offset=(0.1,)), "'setpoint_error' does not use offset"),
        (lambda: ObservationAdapter("select", indices=(0,), measurement=3), "'select' does not use measurement"),
        (lambda: ActionAdapter("identity", low=-1.0, high=1.0), "action adapter 'identity' does not use low, high"),
    ],
    ids=["identity-scale", "setpoint-offset", "select-measurement", "identity-bounds"],
)
def test_an_adapter_option_its_kind_does_not_read_is_refused(make, message) -> None:
    """Each was ignored in silence (an identity adapter with a scale per channel ran in SNNPolicy and was refused
    by the compiled tick)."""
    with pytest.raises(SpecError, match=message):
        make()


@pytest.mark.parametrize(("make", "kind"), [(Path.mkdir, "a directory"), (os.mkfifo, "a FIFO")], ids=["dir", "fifo"])
def test_a_controller_json_that_is_no_regular_file_says_what_it_is(artifact: Path, make, kind: str) -> None:
    """It said 'missing controller.json'."""
    (artifact / "controller.json").unlink()
    make(artifact / "controller.json")
    with pytest.raises(ArtifactError, match=rf"controller\.json is {kind}, not a regular file"):
        load_controller(artifact)
