"""What every benchmark script shares: its result JSON written strictly and atomically, the machine a timing ran
on, range-checked command-line numbers, output paths checked before the work, and ratios to a peer.

The scripts import it as `common` (each puts benchmarks/ on sys.path). Only the standard library, NumPy and
`snncontrol.atomic` are imported here: benchmarks/evolve_throughput.py's spawned workers import their script
before they size their thread pools.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from snncontrol import atomic
from snncontrol.arguments import bounded


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
    return bounded(int, low, math.inf if high is None else high)


def number(low: float, high: float | None = None, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number >= `low` (> `low` with `above`), <= `high` where given."""
    return bounded(float, low, math.inf if high is None else high, above)


def output_file(parser: argparse.ArgumentParser, path: str | os.PathLike[str], flag: str) -> Path:
    """`path` checked as a result file before the work (`atomic.writable_file`: its folder made, a file may be
    created there, nothing but a regular file is replaced); else the parser's one-line error naming `flag`."""
    try:
        return atomic.writable_file(path)
    except OSError as exc:  # FileExistsError, PermissionError, a read-only folder, /proc
        parser.error(f"{flag}: {exc}")

