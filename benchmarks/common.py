"""What every benchmark script shares: its result JSON written strictly and atomically, the machine a timing ran
on, range-checked command-line numbers, output paths (result files and plots) checked before the work, ratios to a
peer, and the RESULT line with the same keys and values in the result JSON.

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
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from snncontrol import atomic
from snncontrol.arguments import bounded, plain_number


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



def plot_file(parser: argparse.ArgumentParser, path: str | os.PathLike[str], flag: str,
              output: Path | None = None) -> Path:
    """`path` checked as a figure before the work: a suffix matplotlib renders (.png, .pdf, .svg, ...; a name
    such as x.txt or x.json failed in savefig after the run), a writable file (`output_file`) and not the
    result file `output`; else the parser's one-line error naming `flag`. matplotlib is imported here, not with
    this module (see the module's docstring)."""
    from matplotlib.figure import Figure

    suffixes = tuple(f".{name}" for name in sorted(Figure().canvas.get_supported_filetypes()))
    try:
        atomic.check_suffix(path, suffixes, "a figure", ValueError)
    except ValueError as exc:
        parser.error(f"{flag}: {exc}")
    plot = output_file(parser, path, flag)
    if output is not None and plot == output:
        parser.error(f"{flag} {plot} is the result file: give another path")
    return plot


def _token(value: Any, spec: str) -> str:
    """One RESULT value as one word: blanks and '=' (which would split it or make another pair) become '_', an
    empty string '-' (never an error: the line comes after the work)."""
    if isinstance(value, tuple):  # (value, format spec)
        value, spec = value
    elif isinstance(value, bool | str | int | np.integer):
        spec = ""  # as they are: a count, a status, 'K/N'
    text = format(value.item() if isinstance(value, np.generic) else value, spec)
    return re.sub(r"[\s=]+", "_", text) or "-"


def result_value(token: str) -> int | float | str:
    """A RESULT line's value as the result JSON holds it: an int or a float where the token is one ('nan' a float
    NaN, which `write_json` writes as null), else the token itself ('5/8', 'missing_stage')."""
    for kind in (int, float):
        try:
            return plain_number(token, kind)  # ('10_20', a joined string, stays a string)
        except ValueError:
            pass
    return token


def result_line(name: str, values: Mapping[str, Any], spec: str = ".2f") -> tuple[str, dict[str, Any]]:
    """(the line `RESULT name key=value ...`, the mapping key -> value as the line gives it) of `values`: a float
    formatted with `spec`, a value given as (value, format spec) with its own, an int or a string as it is. The
    scripts store the mapping as their result JSON's `result` before they print the line (their last), so the
    JSON carries exactly the headline figures, rounded as printed."""
    tokens = {key: _token(value, spec) for key, value in values.items()}
    line = " ".join([f"RESULT {name}", *(f"{key}={token}" for key, token in tokens.items())])
    return line, {key: result_value(token) for key, token in tokens.items()}


def parse_result_line(line: str) -> tuple[str, dict[str, Any]]:
    """(name, mapping) of a RESULT line, the inverse of `result_line`."""
    words = line.split()
    if len(words) < 2 or words[0] != "RESULT":
        raise ValueError(f"not a RESULT line: {line!r}")
    return words[1], {key: result_value(token) for key, token in (word.split("=", 1) for word in words[2:])}
