"""A tiny construction for the tests of `network.construction` (allowed with `allow_import=("constructions",)`):
`constructions:level` sets every parameter of a small paired-LIF network at the fraction `level` of its range
(`scale` times it, clipped to 1), and refuses a level above `refuse_above` as a construction refuses settings it
cannot build; `constructions:faulty` builds as `level` does up to level 0.5 and beyond it returns what no
construction may (`fault`: "size", a genome of another size; "bounds", one outside the parameter bounds; "spec",
another network; "tuple", a bare genome); `constructions:spec_only` returns a bare spec (not a construction)."""

from __future__ import annotations

import numpy as np

from evolution.builders import paired_lif_readout
from snncontrol.adapters import IOAdapters
from snncontrol.errors import SpecError
from snncontrol.spec import NetworkSpec


def level(level: float, scale: float = 1.0, refuse_above: float = 1.0) -> tuple[NetworkSpec, np.ndarray, IOAdapters]:
    if level > refuse_above:
        raise SpecError(f"level {level} is above {refuse_above}")
    return _level(level, scale)


def _level(level: float, scale: float = 1.0) -> tuple[NetworkSpec, np.ndarray, IOAdapters]:
    spec = paired_lif_readout(2, 3)
    unit = np.full(spec.parameters.size, min(level * scale, 1.0))
    return spec, spec.parameters.denormalize(unit), IOAdapters()


def spec_only(level: float) -> NetworkSpec:
    return paired_lif_readout(2, 3)


def faulty(level: float, fault: str) -> object:
    built = _level(level)
    if level <= 0.5:
        return built
    spec, genome, io = built
    if fault == "size":
        return spec, genome[:-1], io
    if fault == "bounds":
        return spec, genome + 1e6, io
    if fault == "spec":
        other = paired_lif_readout(3, 3)
        return other, other.parameters.initial(), io
    return genome
