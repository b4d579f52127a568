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
from safetensors.numpy import save

from snncontrol.artifacts import Metadata, load_controller, save_controller
from snncontrol.errors import ArtifactError
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
    if rnd.random() < 0.6:
        (artifact / "controller.json").write_bytes(_damage_json(rnd, (artifact / "controller.json").read_text()))
    else:
        _damage_params(rnd, artifact, genome)
    try:
        load_controller(artifact)
    except ArtifactError as exc:
        assert "\n" not in str(exc) and str(artifact) in str(exc)
