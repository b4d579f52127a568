"""Constructor-argument and action checks: each raises one ValueError that names the offending argument."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection

import numpy as np


def _finite_float(value: object) -> float | None:
    """``value`` as a float if it is a finite real number (a bool is not one); None otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _at_most(high: float) -> str:
    """The upper bound's part of a message: '' where there is none."""
    return "" if high == math.inf else f" and <= {high:g}"


def finite(name: str, value: float) -> float:
    """``value`` if it is a finite number."""
    number = _finite_float(value)
    if number is None:
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def positive(name: str, value: float, high: float = math.inf) -> float:
    """``value`` if it is a finite number in (0, high]."""
    number = _finite_float(value)
    if number is None or not 0.0 < number <= high:
        raise ValueError(f"{name} must be a finite number > 0{_at_most(high)}, got {value!r}")
    return number


def non_negative(name: str, value: float, high: float = math.inf) -> float:
    """``value`` if it is a finite number in [0, high]."""
    number = _finite_float(value)
    if number is None or not 0.0 <= number <= high:
        raise ValueError(f"{name} must be a finite number >= 0{_at_most(high)}, got {value!r}")
    return number


def within(name: str, value: float, low: float, high: float) -> float:
    """``value`` if it is a finite number in [low, high]."""
    number = _finite_float(value)
    if number is None or not low <= number <= high:
        raise ValueError(f"{name} must be a finite number in [{low:g}, {high:g}], got {value!r}")
    return number


def probability(name: str, value: float, certain: bool = False) -> float:
    """``value`` if it lies in [0, 1), or in [0, 1] where ``certain`` (a probability of 1 is allowed)."""
    number = _finite_float(value)
    if number is None or not (0.0 <= number <= 1.0 if certain else 0.0 <= number < 1.0):
        raise ValueError(f"{name} must be a probability in [0, {'1]' if certain else '1)'}, got {value!r}")
    return number


def non_negative_below(name: str, value: float, high: float) -> float:
    """``value`` if it is a finite number in [0, high)."""
    number = _finite_float(value)
    if number is None or not 0.0 <= number < high:
        raise ValueError(f"{name} must be a finite number >= 0 and < {high:g}, got {value!r}")
    return number


def integer_in(name: str, value: int, low: int, high: float = math.inf) -> int:
    """``value`` as an int if it is an integer (any ``numbers.Integral``, e.g. a NumPy integer; a bool is not one)
    in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not low <= value <= high:
        allowed = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {allowed}, got {value!r}")
    return int(value)


def boolean(name: str, value: bool) -> bool:
    """``value`` as a bool if it is one (Python's or NumPy's; 0, 1 or a string like "false" are not)."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def interval(name: str, value: tuple[float, float], low: float = -math.inf, high: float = math.inf) -> tuple[
    float, float
]:
    """``value`` if it is a pair (a, b) of finite numbers with low <= a <= b <= high."""
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {value!r}") from None
    if not (math.isfinite(a) and math.isfinite(b) and low <= a <= b <= high):
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got {value!r}")
    return a, b


def one_of(name: str, value: object, options: Collection[object]) -> object:
    """``value`` if it is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {sorted(map(str, options))}, got {value!r}")
    return value


def _real(value: object) -> bool:
    """False where a list or tuple holds a bool or a complex number among real numbers ([True, 0.5] converts to
    floats, so its dtype does not show it); an array's dtype says it for the array."""
    if isinstance(value, np.ndarray) or not isinstance(value, list | tuple):
        return True
    return not any(isinstance(v, bool | np.bool_ | complex | np.complexfloating)
                   for v in np.asarray(value, dtype=object).ravel())


def action(value: object, shape: tuple[int, ...]) -> np.ndarray:
    """`value` as a float64 array of `shape` with finite real values only (NaN or inf would reach the simulator,
    which resets or silently turns them into another command; booleans and complex numbers would pass as other
    commands); ValueError in one line otherwise."""
    try:
        kind = np.asarray(value).dtype.kind  # bool or complex would convert: True as 1.0, 1+1j as 1.0
        array = np.asarray(value, dtype=np.float64) if kind in "iufO" and _real(value) else None
    except (TypeError, ValueError):
        array = None
    if array is None:
        raise ValueError(f"action must be real numbers of shape {shape}, got {type(value).__name__}"
                         f"{'' if not isinstance(value, np.ndarray) else f' of {value.dtype}'}")
    if array.shape != shape:
        raise ValueError(f"action must have shape {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"action must be finite, got {array.tolist() if array.size <= 8 else 'NaN or inf values'}")
    return array
