"""Fuzzing the checkpoint loader: seeded random damage to the newest checkpoints (truncation, flipped bytes,
dropped keys and arrays, wrong types, dtypes and shapes, huge values, deep JSON, an array header claiming
terabytes) either resumes from a checkpoint that validates or is refused with one `ResumeError` line; never a
traceback, never an unbounded allocation."""

from __future__ import annotations

import io
import json
import random
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from evo_support import run, sphere_config

from evolution import checkpoint
from evolution.config import parse_config
from evolution.errors import ResumeError
from evolution.runner import Experiment

CASES = 50
CONFIG = sphere_config({"name": "cmaes", "population": 6}, generations=3)
BAD_VALUES: list[Any] = [None, True, -1, 2**70, 1e308, float("nan"), float("inf"), "x", [], {}, [[1.5]]]


def _damage_json(rnd: random.Random, path: Path) -> None:
    text = path.read_text()
    kind = rnd.choice(["truncate", "drop", "retype", "retype", "deep"])
    if kind == "truncate":
        path.write_text(text[: rnd.randrange(len(text))])
        return
    if kind == "deep":
        path.write_text("[" * 100_000 + "]" * 100_000)
        return
    meta = json.loads(text)
    parent = rnd.choice([meta, meta, meta["strategy"], meta["strategy"]["cma"], meta["rng"]["numpy"]])
    key = rnd.choice(sorted(parent))
    if kind == "drop":
        del parent[key]
    else:
        parent[key] = rnd.choice(BAD_VALUES)
    path.write_text(json.dumps(meta))


def _damage_npz(rnd: random.Random, path: Path) -> None:
    kind = rnd.choice(["truncate", "flip", "drop", "dtype", "shape", "huge", "header"])
    data = bytearray(path.read_bytes())
    if kind == "truncate":
        path.write_bytes(bytes(data[: rnd.randrange(len(data))]))
        return
    if kind == "flip":
        data[rnd.randrange(len(data))] ^= 1 << rnd.randrange(8)
        path.write_bytes(bytes(data))
        return
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    key = rnd.choice(sorted(arrays))
    if kind == "drop":
        del arrays[key]
    elif kind == "dtype":
        arrays[key] = arrays[key].astype(rnd.choice([np.int64, np.float32, np.uint8, np.bool_]))
    elif kind == "shape":
        arrays[key] = np.concatenate([arrays[key].ravel(), [0]]) if rnd.random() < 0.5 else arrays[key].T[..., None]
    elif kind == "huge" and arrays[key].size and arrays[key].dtype.kind == "f":
        arrays[key] = arrays[key].copy()
        arrays[key].flat[rnd.randrange(arrays[key].size)] = rnd.choice([1e308, np.inf, np.nan])
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blob = buffer.getvalue()
    if kind == "header":  # the array's .npy header claims 10^12 float64 values
        claim = io.BytesIO()
        np.lib.format.write_array_header_1_0(claim, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr(f"{key}_claim.npy", claim.getvalue() + bytes(64))
        blob = buffer.getvalue()
    path.write_bytes(blob)


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "run"
    run(CONFIG, path)
    return path


@pytest.mark.parametrize("case", range(CASES))
def test_damaged_checkpoints_resume_or_are_refused_in_one_line(case: int, finished: Path, tmp_path: Path) -> None:
    rnd = random.Random(case)
    run_dir = tmp_path / "run"
    shutil.copytree(finished, run_dir)
    checkpoints = run_dir / "checkpoints"
    for generation in range(3, 3 - rnd.choice([1, 1, 3]), -1):  # the newest one, or all three
        stem = checkpoints / f"gen_{generation:06d}"
        _damage_json(rnd, stem.with_suffix(".json")) if rnd.random() < 0.5 else _damage_npz(
            rnd, stem.with_suffix(".npz")
        )
    if rnd.random() < 0.2:
        (checkpoints / "latest.json").write_text(rnd.choice(['{"generation": "3"}', "{", "[" * 100_000]))
    experiment = Experiment(parse_config(CONFIG), run_dir, quiet=True)
    state, strategy = experiment.state, experiment.strategy
    try:
        generation = checkpoint.load(
            checkpoints, state, strategy, experiment.cls, experiment.accepted_hashes, experiment.problem.dim
        )
    except ResumeError as exc:
        assert "\n" not in str(exc)
        return
    assert state.generation == generation and len(state.population) == 6
    experiment.strategy.generate()  # what was restored can drive the next generation
