"""Objective names, their directions, and the SNN-core accounting objectives (spikes, SOPs, energy).

Every fitness returns raw objective values [P, M] in their natural units; `weights` turns names into DEAP
fitness weights (+1 maximize, -1 minimize).
"""

from __future__ import annotations

import numpy as np

from snncontrol.energy import EnergyReport

MAXIMIZED = frozenset({"return", "log_return"})
ENERGY_OBJECTIVES = ("sops", "spikes", "energy")


def weights(names: list[str], maximize: list[str] | tuple[str, ...] = ()) -> tuple[float, ...]:
    return tuple(1.0 if name in MAXIMIZED or name in maximize else -1.0 for name in names)


def energy_objectives(report: EnergyReport) -> dict[str, np.ndarray]:
    """Totals per individual [B]: SOPs, spikes (all layers) and the estimated energy (J)."""
    return {"sops": report.sops, "spikes": report.spikes.sum(axis=1), "energy": report.snn_energy_j}
