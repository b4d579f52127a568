"""What every benchmark script shares: its result JSON written strictly and atomically, the machine a timing ran
on, range-checked command-line numbers, output paths checked before the work, and ratios to a peer.

The scripts import it as `common` (each puts benchmarks/ on sys.path). Only the standard library, NumPy and
`snncontrol.atomic` are imported here: benchmarks/evolve_throughput.py's spawned workers import their script
before they size their thread pools.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from snncontrol import atomic


def strict(value: Any) -> Any:
    """`value` ready for strict JSON: every non-finite float (NaN, +-inf) as None, tuples and arrays as lists,
    NumPy scalars as Python ones."""
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [strict(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: str | os.PathLike[str], document: Any, indent: int = 1) -> Path:
    """Replace the file `path` with `document` as strict JSON (NaN and infinities as null), atomically. Returns
    the path written."""
    text = json.dumps(strict(document), indent=indent, allow_nan=False)
    return atomic.write_text(path, text + "\n")


def ratio(value: float, base: float) -> float:
    """value / base (e.g. ours / the peer's), NaN where the base is not positive or either is not finite: no
    ZeroDivisionError, no huge number from a zero base. NaN is null in `write_json`, 'nan' in a RESULT line."""
    value, base = float(value), float(base)
    if not (math.isfinite(value) and math.isfinite(base)) or base <= 0:
        return math.nan
    return value / base


def ratios(values: np.ndarray, bases: np.ndarray) -> np.ndarray:
    """`ratio` element by element."""
    values, bases = np.asarray(values, dtype=float), np.asarray(bases, dtype=float)
    valid = np.isfinite(values) & np.isfinite(bases) & (bases > 0)
    return np.divide(values, bases, out=np.full(np.broadcast(values, bases).shape, math.nan), where=valid)


def machine_info() -> dict[str, Any]:
    """The machine a timing ran on: CPU model (/proc/cpuinfo's model name; platform's guess elsewhere), cores,
    the load average (1, 5, 15 min) now, Python's version and the date (UTC)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "load_average_1_5_15_min": list(os.getloadavg()),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def integer(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in low..high (inclusive; no upper bound where `high` is None)."""
    span = f">= {low}" if high is None else f"in {low}..{high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer {span}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be an integer {span}, got {text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def number(low: float, high: float | None = None, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number >= `low` (> `low` with `above`), <= `high` where given."""
    span = f"{'>' if above else '>='} {low:g}" + ("" if high is None else f" and <= {high:g}")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and (value > low if above else value >= low) and (high is None or value <= high)):
            raise argparse.ArgumentTypeError(f"must be a finite number {span}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def output_file(parser: argparse.ArgumentParser, path: str | os.PathLike[str], flag: str) -> Path:
    """`path` checked as a result file before the work (`atomic.writable_file`: its folder made, a file may be
    created there, nothing but a regular file is replaced); else the parser's one-line error naming `flag`."""
    try:
        return atomic.writable_file(path)
    except OSError as exc:  # FileExistsError, PermissionError, a read-only folder, /proc
        parser.error(f"{flag}: {exc}")

