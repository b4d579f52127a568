"""Command-line numbers checked where they are parsed: an argparse type for a bounded int or float, so that a
bad value is argparse's one line naming the option (the CLIs, the ROS launchers, the benchmarks); `plain_number`
for numbers read from files."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any


def bounded(
    kind: type[int] | type[float], low: float, high: float = math.inf, above: bool = False
) -> Callable[[str], Any]:
    """An argparse type: a finite `kind` (int or float) in [low, high] (`above`: in (low, high]; infinite limits:
    none), else a one-line reason, e.g. `argument --duration: must be > 0 and <= 1e+07, got '0'`."""

    def text(x: float) -> str:
        return f"{x:g}" if isinstance(x, float) else str(x)

    limits = [] if math.isinf(low) else [f"> {text(low)}" if above else f">= {text(low)}"]
    limits += [] if math.isinf(high) else [f"<= {text(high)}"]
    wanted = " and ".join(limits)
    what = "an integer" if kind is int else "a number"

    def parse(given: str) -> Any:
        try:
            number = kind(given)
        except ValueError:
            expected = f"{what} {wanted}" if wanted else f"a finite {what.split()[-1]}"
            raise argparse.ArgumentTypeError(f"expected {expected}, got {given!r}") from None
        if not (math.isfinite(number) and (low < number if above else low <= number) and number <= high):
            raise argparse.ArgumentTypeError(f"must be {wanted or 'finite'}, got {given!r}")
        return number

    parse.__name__ = kind.__name__  # argparse names the type in its message for a value it cannot convert
    return parse


def plain_number(text: str, kind: type[int] | type[float] = float) -> int | float:
    """`kind(text)`, except that a digit separator is no number: int() and float() read '0_5' as 5 and '10_20' as
    1020 (a typo in a recording, two values joined in a RESULT line). ValueError as `kind` raises it."""
    if "_" in text:
        raise ValueError(f"could not convert {text!r}: '_' is no part of a number here")
    return kind(text)
