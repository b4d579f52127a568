"""Checkpoints: every `output.checkpoint_every` generations and after the last, without pickle, each file
written atomically (temp file + rename).

    checkpoints/gen_000012.npz   arrays: strategy (e.g. every CMA-ES matrix and vector), last population and
                                 fitnesses, hall of fame / Pareto front, selected champion (see
                                 `Experiment._select`), the champion published to best/ and the end-of-run
                                 choice (`loop.Published`, `loop.EndOfRun`), RNG states of random, numpy, torch
    checkpoints/gen_000012.json  scalars: format, config hash, generation, evaluations, elapsed_s, strategy
                                 scalars, RNG scalars, logbook rows, the published champion's loss and stamps
                                 and the end-of-run choice's loss and logbook fields (null where there is none;
                                 absent from the checkpoints of older versions, which resume without them)
    checkpoints/latest.json      {"generation": 12}, written last: the checkpoint to resume from

The last `keep` checkpoints are kept. Loading checks the config hash and restores everything, RNG states
last, so a resumed run continues bit for bit. A checkpoint that cannot be read or does not validate (truncated,
corrupt, a key or array missing, a wrong dtype or shape, a non-finite or out-of-range value, JSON nested deeper
than `MAX_JSON_DEPTH`) is skipped with a warning for the next older one; with none left, resuming is refused in
one line. The archive is written uncompressed, so an array whose header claims more bytes than the file holds is
refused before anything is allocated. Loading first removes the hidden temporaries of writes a kill cut short.
"""

from __future__ import annotations

import json
import logging
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from evolution import rng
from evolution.errors import ResumeError
from evolution.loop import EndOfRun, Published, RunState
from evolution.strategies.base import Individual, Strategy, pack, unpack
from snncontrol import atomic
from snncontrol.artifacts import parse_json
from snncontrol.errors import first_line

FORMAT = "snncontrol.evolution.checkpoint/1"
LATEST = "latest.json"
#: The JSON part's fields and their types (a bool is no number here).
FIELDS: dict[str, tuple[type, ...]] = {
    "format": (str,),
    "config_hash": (str,),
    "generation": (int,),
    "evaluations": (int,),
    "elapsed_s": (int, float),
    "selected_loss": (int, float, type(None)),
    "strategy": (dict,),
    "rng": (dict,),
    "logbook": (list,),
}
#: What a checkpoint that does not validate raises while it is read or restored (then the next older is tried).
INVALID = (
    OSError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    OverflowError,
    RuntimeError,
    EOFError,
    SyntaxError,  # a damaged .npy header
    zipfile.BadZipFile,
)
log = logging.getLogger(__name__)


def _stem(generation: int) -> str:
    return f"gen_{generation:06d}"


def save(directory: Path, state: RunState, strategy: Strategy, config_hash: str, keep: int) -> None:
    strategy_meta, arrays = strategy.state()
    rng_meta, rng_arrays = rng.capture()
    published, end = state.published, state.end
    arrays = {
        **arrays,
        **rng_arrays,
        **pack(state.population, "population"),
        **pack(list(state.hall_of_fame), "hof"),
        **pack(_listed(state.selected), "selected"),
        **pack(_listed(None if published is None else published.individual), "published"),
        **pack(_listed(None if end is None else end.selected), "end"),
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
        "published": None if published is None else {
            "loss": _finite_or_none(published.loss), "generation": published.generation,
            "evaluations": published.evaluations,
        },
        "end": None if end is None else {"loss": _finite_or_none(end.loss), "fields": end.fields},
    }
    stem = _stem(state.generation)
    atomic.write_npz(directory / f"{stem}.npz", arrays)
    atomic.write_text(directory / f"{stem}.json", json.dumps(meta))
    atomic.write_text(directory / LATEST, json.dumps({"generation": state.generation}))
    generations = _generations(directory)
    older = [g for g in generations if g <= state.generation][keep:]
    abandoned = [g for g in generations if g > state.generation]  # left behind by a resume from an older one
    for generation in older + abandoned:
        for suffix in (".json", ".npz"):
            (directory / f"{_stem(generation)}{suffix}").unlink(missing_ok=True)


def _listed(individual: Individual | None) -> list[Individual]:
    """A population of `individual`, or none."""
    return [] if individual is None else [individual]


def _finite_or_none(loss: float) -> float | None:
    """A selection loss as JSON: None for inf (none, or not finite)."""
    return loss if math.isfinite(loss) else None


def _generations(directory: Path) -> list[int]:
    """The generations that have a checkpoint file in `directory`, newest first."""
    found = {path.stem.removeprefix("gen_") for path in directory.glob("gen_*") if path.suffix in (".json", ".npz")}
    return sorted((int(g) for g in found if g.isdigit()), reverse=True)


def exists(directory: Path) -> bool:
    """Whether `directory` holds any checkpoint (even a broken one: a new run there would mix with it)."""
    return (directory / LATEST).is_file() or bool(_generations(directory))


def load(
    directory: Path, state: RunState, strategy: Strategy, cls: type[Individual], config_hashes: Sequence[str],
    dim: int,
) -> int:
    """Restore `state` and `strategy` (individuals of `dim` unit-cube coordinates) from the newest valid
    checkpoint in `directory`, then the RNG states; return its generation. The checkpoint's config hash must be
    one of `config_hashes` (the first: the experiment's now)."""
    problems = []
    for generation in _resume_order(directory):
        try:
            meta, arrays = _read(directory, generation)
        except INVALID as exc:
            problems.append(f"{_stem(generation)}: {_reason(exc)}")
            continue
        if meta["config_hash"] not in config_hashes:
            raise ResumeError(
                f"the config differs from the one {directory.parent} was started with (experiment hash "
                f"{config_hashes[0][:12]} != {meta['config_hash'][:12]}); resume with the run's config.yaml or start a "
                "new run"
            )
        try:
            _restore(meta, arrays, state, strategy, cls, dim)
        except INVALID as exc:
            problems.append(f"{_stem(generation)}: {_reason(exc)}")
            continue
        if problems:
            log.warning("resuming %s from %s, skipped %s", directory, _stem(generation), "; ".join(problems))
        return generation
    raise ResumeError(f"no valid checkpoint to resume from in {directory} ({'; '.join(problems) or 'none found'})")


def _reason(exc: BaseException) -> str:
    """One short line for why a checkpoint was skipped."""
    text = first_line(exc)[:200] if str(exc).strip() else ""
    if isinstance(exc, KeyError):
        return f"lacks {text}"
    return text if isinstance(exc, ValueError) and text else f"{type(exc).__name__}: {text}"


def _resume_order(directory: Path) -> list[int]:
    """The generation latest.json names, then every older one, newest first (all of them if latest.json
    does not parse)."""
    generations = _generations(directory)
    try:
        latest = parse_json((directory / LATEST).read_text(encoding="utf-8"))["generation"]
    except (OSError, ValueError, KeyError, TypeError):
        return generations
    if not isinstance(latest, int) or isinstance(latest, bool):
        return generations
    return [latest] + [g for g in generations if g < latest]


def _read(directory: Path, generation: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON part (validated against FIELDS) and the arrays of one checkpoint."""
    meta = parse_json((directory / f"{_stem(generation)}.json").read_text(encoding="utf-8"))
    if not isinstance(meta, dict):
        raise ValueError("the JSON part must be an object")
    if meta.get("format") != FORMAT:
        raise ValueError(f"unknown checkpoint format {meta.get('format')!r:.60}")
    for key, types in FIELDS.items():
        if key not in meta:
            raise ValueError(f"the JSON part lacks {key!r}")
        value = meta[key]
        if isinstance(value, bool) or not isinstance(value, types):
            raise ValueError(f"{key!r} must be {' or '.join(t.__name__ for t in types)}, got {type(value).__name__}")
    if meta["generation"] != generation or meta["evaluations"] < 0:
        raise ValueError(f"generation {meta['generation']} / evaluations {meta['evaluations']} do not fit the file")
    if not (math.isfinite(meta["elapsed_s"]) and meta["elapsed_s"] >= 0):
        raise ValueError(f"elapsed_s must be a finite number of seconds >= 0, got {meta['elapsed_s']}")
    if not all(isinstance(row, dict) for row in meta["logbook"]):
        raise ValueError("logbook rows must be objects")
    if [row.get("gen") for row in meta["logbook"]] != list(range(generation)):  # ({}: a KeyError after the run)
        raise ValueError(f"the logbook must hold one row per generation, 'gen' 0 .. {generation - 1}")
    return meta, _read_arrays(directory / f"{_stem(generation)}.npz")


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array of an uncompressed .npz, none of object dtype, none claiming more bytes than the file has."""
    budget = path.stat().st_size
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            with archive.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (
                    np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
                )
                shape, _, dtype = read_header(member)
                if dtype.hasobject or math.prod(shape) * dtype.itemsize > budget:
                    raise ValueError(f"array {info.filename} is of object dtype or larger than the file")
            with archive.open(info) as member:
                arrays[info.filename.removesuffix(".npy")] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _restore(
    meta: dict[str, Any],
    arrays: dict[str, np.ndarray],
    state: RunState,
    strategy: Strategy,
    cls: type[Individual],
    dim: int,
) -> None:
    population, hof_items = unpack(cls, arrays, "population", dim), unpack(cls, arrays, "hof", dim)
    selected = unpack(cls, arrays, "selected", dim)
    strategy.load_state(meta["strategy"], arrays)
    state.generation, state.evaluations, state.elapsed_s = meta["generation"], meta["evaluations"], meta["elapsed_s"]
    state.logbook = meta["logbook"]
    state.population = population
    hof = state.hall_of_fame
    hof.clear()
    hof.items = hof_items  # best first
    hof.keys = [ind.fitness for ind in reversed(hof.items)]  # ascending, as HallOfFame keeps them
    state.selected = selected[0] if selected else None
    state.selected_loss = _loss(meta["selected_loss"])
    state.published = _published(meta, arrays, cls, dim)
    state.end = _end(meta, arrays, cls, dim)
    rng.restore(meta["rng"], arrays)


def _loss(value: Any) -> float:
    """A selection loss from JSON: a number (inf: a seed whose loss was not finite) or None for inf (none)."""
    if value is None:
        return math.inf
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValueError(f"a selection loss must be a number or null, got {value!r:.40}")
    return float(value)


def _single(cls: type[Individual], arrays: dict[str, np.ndarray], prefix: str, dim: int) -> Individual | None:
    """The one individual (or none) stored under `prefix`."""
    individuals = unpack(cls, arrays, prefix, dim)
    if len(individuals) > 1:
        raise ValueError(f"{prefix}: expected at most one individual, got {len(individuals)}")
    return individuals[0] if individuals else None


def _published(
    meta: dict[str, Any], arrays: dict[str, np.ndarray], cls: type[Individual], dim: int
) -> Published | None:
    """The champion published to best/ (None: none yet, or a checkpoint of an older version)."""
    part = meta.get("published")
    if part is None:
        return None
    individual = _single(cls, arrays, "published", dim)
    generation, evaluations = part["generation"], part["evaluations"]
    if individual is None or not all(isinstance(v, int) and not isinstance(v, bool) for v in (generation, evaluations)):
        raise ValueError("published: needs one individual and integer generation and evaluations")
    if not (0 <= generation <= meta["generation"] and 0 <= evaluations <= meta["evaluations"]):
        raise ValueError(f"published: generation {generation} / evaluations {evaluations} lie after the checkpoint")
    return Published(individual, _loss(part["loss"]), generation, evaluations)


def _end(meta: dict[str, Any], arrays: dict[str, np.ndarray], cls: type[Individual], dim: int) -> EndOfRun | None:
    """The end-of-run choice (None: the checkpoint is no run's end past its schedule, or of an older version)."""
    part = meta.get("end")
    if part is None:
        return None
    fields, row = part["fields"], meta["logbook"][-1] if meta["logbook"] else {}
    if not isinstance(fields, list) or not all(isinstance(key, str) and key in row for key in fields):
        raise ValueError("end: fields must name keys of the last logbook row")
    return EndOfRun(_single(cls, arrays, "end", dim), _loss(part["loss"]), list(fields))
