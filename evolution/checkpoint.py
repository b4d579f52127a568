"""Checkpoints: every `output.checkpoint_every` generations and after the last, without pickle, each file
written atomically (temp file + rename).

    checkpoints/gen_000012.npz   arrays: strategy (e.g. every CMA-ES matrix and vector), last population and
                                 fitnesses, hall of fame / Pareto front, selected champion (see
                                 `Experiment._select`), RNG states of random, numpy, torch
    checkpoints/gen_000012.json  scalars: format, config hash, generation, evaluations, elapsed_s, strategy
                                 scalars, RNG scalars, logbook rows
    checkpoints/latest.json      {"generation": 12}, written last: the checkpoint to resume from

The last `keep` checkpoints are kept. Loading checks the config hash and restores everything, RNG states
last, so a resumed run continues bit for bit.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from evolution import rng
from evolution.errors import ResumeError
from evolution.loop import RunState
from evolution.strategies.base import Individual, Strategy, pack, unpack
from snncontrol import atomic

FORMAT = "snncontrol.evolution.checkpoint/1"
LATEST = "latest.json"


def _stem(generation: int) -> str:
    return f"gen_{generation:06d}"


def save(directory: Path, state: RunState, strategy: Strategy, config_hash: str, keep: int) -> None:
    strategy_meta, arrays = strategy.state()
    rng_meta, rng_arrays = rng.capture()
    selected = [] if state.selected is None else [state.selected]
    arrays = {
        **arrays,
        **rng_arrays,
        **pack(state.population, "population"),
        **pack(list(state.hall_of_fame), "hof"),
        **pack(selected, "selected"),
    }
    meta = {
        "format": FORMAT,
        "config_hash": config_hash,
        "generation": state.generation,
        "evaluations": state.evaluations,
        "elapsed_s": state.elapsed_s,
        "selected_loss": state.selected_loss if state.selected is not None else None,
        "strategy": strategy_meta,
        "rng": rng_meta,
        "logbook": state.logbook,
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    stem = _stem(state.generation)
    atomic.write_bytes(directory / f"{stem}.npz", buffer.getvalue())
    atomic.write_text(directory / f"{stem}.json", json.dumps(meta))
    atomic.write_text(directory / LATEST, json.dumps({"generation": state.generation}))
    for old in sorted(directory.glob("gen_*.json"))[:-keep]:
        old.unlink(missing_ok=True)
        old.with_suffix(".npz").unlink(missing_ok=True)


def exists(directory: Path) -> bool:
    return (directory / LATEST).is_file()


def load(directory: Path, state: RunState, strategy: Strategy, cls: type[Individual], config_hash: str) -> None:
    """Restore `state` and `strategy` from the latest checkpoint in `directory`, then the RNG states."""
    try:
        generation = json.loads((directory / LATEST).read_text())["generation"]
        meta = json.loads((directory / f"{_stem(generation)}.json").read_text())
        with np.load(directory / f"{_stem(generation)}.npz", allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ResumeError(f"cannot read the checkpoint in {directory} ({exc})") from None
    if meta.get("format") != FORMAT:
        raise ResumeError(f"{directory}: unknown checkpoint format {meta.get('format')!r}")
    if meta["config_hash"] != config_hash:
        raise ResumeError(
            f"the config differs from the one {directory.parent} was started with (experiment hash "
            f"{config_hash[:12]} != {meta['config_hash'][:12]}); resume with the run's config.yaml or start a new run"
        )
    strategy.load_state(meta["strategy"], arrays)
    state.generation, state.evaluations, state.elapsed_s = meta["generation"], meta["evaluations"], meta["elapsed_s"]
    state.logbook = meta["logbook"]
    state.population = unpack(cls, arrays, "population")
    hof = state.hall_of_fame
    hof.clear()
    hof.items = unpack(cls, arrays, "hof")  # best first
    hof.keys = [ind.fitness for ind in reversed(hof.items)]  # ascending, as HallOfFame keeps them
    selected = unpack(cls, arrays, "selected")
    state.selected = selected[0] if selected else None
    state.selected_loss = float("inf") if meta["selected_loss"] is None else meta["selected_loss"]
    rng.restore(meta["rng"], arrays)
