"""The contract of the compiled control tick: how a controller's adapters and the tick's bounds are packed into
two arrays, and the codes the tick reads and returns.

`pack` (used by `snncontrol.realtime.GuardedIO`) writes the arrays; the tick kernel
(`snncontrol.compiled.run_tick`) reads them through the same names: int slots (`INT_SLOTS`, then the input
channels from `CHANNELS`), float scalars (`SCALARS`) and float blocks of one value per observation, input or
output (`FloatBlocks`, started where `float_blocks` says). Adapter kind codes are the positions of the kinds in
`ObservationAdapter.KINDS` / `ActionAdapter.KINDS`. Units: observations and their bounds in the plant's units,
commands and their bounds in the actuator's.

numba bakes these constants into the kernel it caches on disk; its cache watches only the file a kernel is defined
in, so compiled.py flushes it when this file or the adapters' changes (`snncontrol.compiled.BAKED_IN`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.errors import SpecError

#: Adapter kind codes in the packed ints.
OBS_CODES: dict[str, int] = {kind: code for code, kind in enumerate(ObservationAdapter.KINDS)}
ACT_CODES: dict[str, int] = {kind: code for code, kind in enumerate(ActionAdapter.KINDS)}
OBS_IDENTITY, OBS_SELECT, OBS_SETPOINT_ERROR = (OBS_CODES[kind] for kind in ("identity", "select", "setpoint_error"))
ACT_IDENTITY, ACT_AFFINE_CLIP = (ACT_CODES[kind] for kind in ("identity", "affine_clip"))

#: Outcomes of a tick: the command is the network's (STEPPED), clipped to the bounds (CLIPPED), or the safe command
#: because the network's was not finite (REPLACED); REJECTED: the observation was not finite or out of bounds, or
#: it made a network input beyond the range of the network's dtype (float32's: an input the network cannot read,
#: with or without a sample hold), or a lost sample (NaN) for a network without a sample hold; the network did not
#: step, the command is untouched.
STEPPED, CLIPPED, REPLACED, REJECTED = range(4)

#: Slots of the packed ints: the adapter kinds, the set-point error's channels, whether the observation adapter
#: has a valid range (0/1) and rate channels (0/1); the observation channels of the inputs (identity, select)
#: follow from CHANNELS, then (select with rates) the channels of their rates, one per input.
INT_SLOTS: tuple[str, ...] = ("obs_kind", "measurement", "setpoint", "has_valid", "has_rates", "act_kind")
OBS_KIND, MEASUREMENT, SETPOINT, HAS_VALID, HAS_RATES, ACT_KIND = range(len(INT_SLOTS))
CHANNELS = len(INT_SLOTS)

#: The scalars at the start of the packed floats: the observation adapter's valid range (-inf, inf without one),
#: its lead (s) and the action adapter's clip range.
SCALARS: tuple[str, ...] = ("valid_low", "valid_high", "lead", "act_low", "act_high")
VALID_LOW, VALID_HIGH, LEAD, ACT_LOW, ACT_HIGH = range(len(SCALARS))
FIRST_BLOCK = len(SCALARS)


class FloatBlocks(NamedTuple):
    """Where each block of the packed floats starts (in this order, one block ending where the next starts);
    `end` is the length of the packed floats."""

    scale: int  # [n_inputs] observation adapter scale
    offset: int  # [n_inputs] observation adapter offset
    act_scale: int  # [n_outputs] action adapter scale
    act_offset: int  # [n_outputs] action adapter offset
    obs_low: int  # [n_obs] observation bounds (clamped to the finite doubles)
    obs_high: int  # [n_obs]
    out_low: int  # [n_outputs] command bounds (clamped to the finite doubles)
    out_high: int  # [n_outputs]
    safe: int  # [n_outputs] the command that replaces a non-finite one
    end: int


def float_blocks(n_obs: int, n_inputs: int, n_outputs: int) -> FloatBlocks:
    """The block starts for observations of `n_obs` values and a network of `n_inputs` / `n_outputs` (plain
    arithmetic, compiled into the kernel as well)."""
    scale = FIRST_BLOCK
    offset = scale + n_inputs
    act_scale = offset + n_inputs
    act_offset = act_scale + n_outputs
    obs_low = act_offset + n_outputs
    obs_high = obs_low + n_obs
    out_low = obs_high + n_obs
    out_high = out_low + n_outputs
    safe = out_high + n_outputs
    return FloatBlocks(
        scale, offset, act_scale, act_offset, obs_low, obs_high, out_low, out_high, safe, safe + n_outputs
    )


class PackedTick(NamedTuple):
    """A controller's adapters and the bounds of its tick: int64 [CHANNELS + channels] and float64 [end]."""

    ints: np.ndarray
    floats: np.ndarray


def pack(
    io: IOAdapters,
    n_obs: int,
    n_inputs: int,
    n_outputs: int,
    obs_low: Sequence[float] | np.ndarray,
    obs_high: Sequence[float] | np.ndarray,
    out_low: Sequence[float] | np.ndarray,
    out_high: Sequence[float] | np.ndarray,
    safe: Sequence[float] | np.ndarray,
) -> PackedTick:
    """Pack `io` and the tick's bounds for observations of `n_obs` values and a network of `n_inputs` inputs and
    `n_outputs` outputs. Bounds and `safe` have 1 value (broadcast) or one per element; infinite bounds are clamped
    to the finite doubles, so that one pair of comparisons rejects NaN and +-inf too. Raises SpecError when the
    adapters or the bounds do not fit."""
    observation, action = io.observation, io.action
    made = observation.n_inputs(n_obs)
    if made != n_inputs:
        raise SpecError(f"the observation adapter makes {made} input(s) of {n_obs}; the network takes {n_inputs}")
    slots = {
        "obs_kind": OBS_CODES[observation.kind],
        "measurement": observation.measurement,
        "setpoint": observation.setpoint,
        "has_valid": observation.valid is not None,
        "has_rates": bool(observation.rates),
        "act_kind": ACT_CODES[action.kind],
    }
    ints = np.array([*(slots[name] for name in INT_SLOTS), *observation.channels(n_obs)], dtype=np.int64)
    valid_low, valid_high = observation.valid or (-np.inf, np.inf)
    scalars = {
        "valid_low": valid_low,
        "valid_high": valid_high,
        "lead": observation.lead,
        "act_low": action.low,
        "act_high": action.high,
    }
    big = np.finfo(np.float64).max
    blocks = {
        "scale": observation.scale,
        "offset": observation.offset,
        "act_scale": action.scale,
        "act_offset": action.offset,
        "obs_low": np.clip(np.asarray(obs_low, np.float64), -big, big),
        "obs_high": np.clip(np.asarray(obs_high, np.float64), -big, big),
        "out_low": np.clip(np.asarray(out_low, np.float64), -big, big),
        "out_high": np.clip(np.asarray(out_high, np.float64), -big, big),
        "safe": safe,
    }
    at = float_blocks(n_obs, n_inputs, n_outputs)
    floats = np.empty(at.end, dtype=np.float64)
    floats[:FIRST_BLOCK] = [scalars[name] for name in SCALARS]
    for name, start, stop in zip(FloatBlocks._fields[:-1], at[:-1], at[1:], strict=True):
        values = np.ravel(np.asarray(blocks[name], np.float64))
        if values.size not in (1, stop - start):
            raise SpecError(f"the tick's {name} needs 1 or {stop - start} value(s), got {values.size}")
        floats[start:stop] = values
    return PackedTick(ints, floats)
