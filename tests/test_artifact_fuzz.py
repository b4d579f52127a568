"""Fuzzing the artifact loader: seeded random damage to controller.json and params.safetensors (truncation,
flipped bytes, dropped keys, wrong types and dtypes, huge values, deep nesting) either still loads a valid
controller or is refused with one `ArtifactError` line; never a traceback, never an unbounded allocation."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.numpy import save

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import Metadata, load_controller, save_controller
from snncontrol.connections import Connection
from snncontrol.decoders import RateDecoder
from snncontrol.encoders import PoissonEncoder
from snncontrol.errors import ArtifactError, SpecError
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.neurons import LIF
from snncontrol.spec import NetworkSpec

CASES = 50
BAD_VALUES: list[Any] = [None, True, -1, 0, 2**70, 1e308, -1e308, float("nan"), "x" * 300, [], {}, [[1.5]]]


def _nodes(document: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every value inside `document`."""
    items = (
        document.items() if isinstance(document, dict) else enumerate(document) if isinstance(document, list) else ()
    )
    found = []
    for key, value in items:
        found.append((*path, key))
        found.extend(_nodes(value, (*path, key)))
    return found


def _damage_json(rnd: random.Random, text: str) -> bytes:
    kind = rnd.choice(["truncate", "flip", "drop", "retype", "retype", "deep"])
    if kind == "truncate":
        return text.encode()[: rnd.randrange(len(text))]
    if kind == "flip":
        data = bytearray(text.encode())
        data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        return bytes(data)
    document = json.loads(text)
    *parent_path, key = rnd.choice(_nodes(document))
    parent = document
    for step in parent_path:
        parent = parent[step]
    if kind == "drop" and isinstance(parent, dict):
        del parent[key]
    elif kind == "deep":
        nest: list = []
        for _ in range(100):
            nest = [nest]
        parent[key] = nest
    else:
        parent[key] = rnd.choice(BAD_VALUES)
    return json.dumps(document).encode()


def _damage_params(rnd: random.Random, artifact: Path, genome: np.ndarray) -> None:
    kind = rnd.choice(["truncate", "flip", "dtype", "shape", "huge"])
    path = artifact / "params.safetensors"
    if kind in ("truncate", "flip"):
        data = bytearray(path.read_bytes())
        if kind == "truncate":
            data = data[: rnd.randrange(len(data))]
        else:
            data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        path.write_bytes(bytes(data))
        return
    if kind == "dtype":
        forged = genome.astype(rnd.choice([np.int64, np.int8, np.uint8, np.float16, np.bool_]))
    elif kind == "shape":
        forged = rnd.choice([genome[:-1], np.concatenate([genome, genome]), genome.reshape(1, -1)])
    else:
        forged = genome.copy()
        forged[rnd.randrange(len(forged))] = rnd.choice([1e308, -1e308, np.inf, np.nan])
    blob = save({"genome": np.ascontiguousarray(forged)})
    path.write_bytes(blob)
    document = json.loads((artifact / "controller.json").read_text())
    document["params_sha256"] = hashlib.sha256(blob).hexdigest()  # a consistent forgery: only validation stops it
    (artifact / "controller.json").write_text(json.dumps(document))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    spec = NetworkSpec(
        n_inputs=1, layers=(paired_encoding("enc", 2), Layer("h", 3, LIF(refractory=1)), leaky_readout())
    )
    genome = spec.parameters.sample(1, np.random.default_rng(0))[0]
    path = save_controller(tmp_path_factory.mktemp("fuzz") / "ctrl", spec, genome, Metadata(seed=1))
    return path, genome


@pytest.mark.parametrize("case", range(CASES))
def test_damaged_artifact_loads_or_is_refused_in_one_line(case: int, pristine, tmp_path: Path) -> None:
    rnd = random.Random(case)
    source, genome = pristine
    artifact = tmp_path / "ctrl"
    artifact.mkdir()
    for item in source.iterdir():
        (artifact / item.name).write_bytes(item.read_bytes())
    damage_params = rnd.random() >= 0.6
    if not damage_params:
        (artifact / "controller.json").write_bytes(_damage_json(rnd, (artifact / "controller.json").read_text()))
    else:
        _damage_params(rnd, artifact, genome)
    try:
        controller = load_controller(artifact)
    except ArtifactError as exc:
        assert "\n" not in str(exc) and str(artifact) in str(exc)
        return
    # what loads is a valid controller: its genome finite and within its spec's bounds (the one saved, where only
    # controller.json was damaged), and it steps with the shapes its spec promises and finite outputs
    parameters = controller.spec.parameters
    assert np.isfinite(controller.genome).all()
    assert np.all((parameters.low <= controller.genome) & (controller.genome <= parameters.high))
    if not damage_params:
        np.testing.assert_array_equal(controller.genome, genome)
    _steps_finitely(controller)


def _steps_finitely(controller: Any) -> list[float]:
    """A few steps of input 0, then +-20 (enough to make the pristine controller's hidden layer fire and its
    readout move), each output of the spec's shape and finite; the outputs."""
    state, outputs = controller.init_state(), []
    for x in [0.0] + [20.0] * 5 + [-20.0] * 5:
        out, state = controller.step(torch.full((1, controller.spec.n_inputs), x), state)
        assert out.shape == (1, controller.spec.n_outputs) and torch.isfinite(out).all(), out
        outputs.append(float(out[0, 0]))
    return outputs


def test_the_pristine_controller_moves_under_the_inputs_a_loaded_one_is_stepped_with(pristine) -> None:
    """(else finite outputs of a damaged one would say little: a silent controller's are finite too)"""
    assert any(abs(value) > 0.1 for value in _steps_finitely(load_controller(pristine[0])))


WRONG_TYPES: list[Any] = [*BAD_VALUES, 2.5, -0.5, "1", [1, 2], float("inf"), 10**400]


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An artifact with an encoder, a decoder and non-identity adapters: more typed fields to damage."""
    spec = NetworkSpec(
        n_inputs=2,
        layers=(Layer("h", 3, LIF(refractory=1), input=Connection(delay=2)), Layer("o", 2, LIF())),
        encoder=PoissonEncoder(rate_per_unit=5.0, seed=4),
        decoder=RateDecoder(window=3),
    )
    io = IOAdapters(
        ObservationAdapter("select", indices=(0, 2), scale=(0.5, 2.0), offset=(0.1, 0.0), valid=(-5.0, 5.0)),
        ActionAdapter("affine_clip", scale=(2.0,), offset=(0.0, 1.0), low=-1.0, high=1.0),
    )
    genome = spec.parameters.sample(1, np.random.default_rng(1))[0]
    return save_controller(tmp_path_factory.mktemp("rich") / "ctrl", spec, genome, Metadata(seed=2, fitness=[1.0]), io)


@pytest.mark.parametrize("case", range(40))
def test_a_retyped_field_is_refused_in_one_line_or_the_controller_runs(case: int, rich: Path, tmp_path: Path) -> None:
    """Set one value of controller.json (spec, io or metadata) to a value of another type, a non-finite or huge
    number (as Python's json writes it, NaN and 1e400 included): loading refuses it in one line, or what loads
    steps, adapts and acts with the shapes its spec promises and finite outputs (no error deferred to use)."""
    rnd = random.Random(1000 + case)
    artifact = tmp_path / "ctrl"
    artifact.mkdir()
    for item in rich.iterdir():
        (artifact / item.name).write_bytes(item.read_bytes())
    document = json.loads((artifact / "controller.json").read_text())
    section = rnd.choice(["spec", "io", "metadata"])
    *parent_path, key = (section, *rnd.choice(_nodes(document[section])))
    parent = document
    for step in parent_path:
        parent = parent[step]
    parent[key] = rnd.choice(WRONG_TYPES)
    (artifact / "controller.json").write_text(json.dumps(document))
    try:
        controller = load_controller(artifact)
    except ArtifactError as exc:
        assert "\n" not in str(exc) and str(artifact) in str(exc)
        return
    out, _ = controller.step(torch.zeros(1, controller.spec.n_inputs), controller.init_state())
    assert out.shape == (1, controller.spec.n_outputs) and torch.isfinite(out).all()
    assert controller.io.action(out.numpy()).shape == out.shape
    try:
        controller.io.observation.n_inputs(8)
    except SpecError:
        return
    controller.io.observation(np.zeros((1, 8)))
