"""Objective names, their directions, and the SNN-core accounting objectives (spikes, SOPs, energy).

Every fitness returns raw objective values [P, M] in their natural units; `weights` turns names into DEAP
fitness weights (+1 maximize, -1 minimize).
"""

from __future__ import annotations

import numpy as np

from snncontrol.energy import EnergyReport, synapse_counts
from snncontrol.network import Network

MAXIMIZED = frozenset({"return"})
ENERGY_OBJECTIVES = ("sops", "spikes", "energy")


def weights(names: list[str], maximize: list[str] | tuple[str, ...] = ()) -> tuple[float, ...]:
    return tuple(1.0 if name in MAXIMIZED or name in maximize else -1.0 for name in names)


def counters_report(net: Network, spikes: np.ndarray, sops: np.ndarray, steps: np.ndarray) -> EnergyReport:
    """An EnergyReport of counters that each individual stopped at its own step count (e.g. episode end).
    spikes [B, L], sops [B], steps [B]."""
    snn_per_step, ann_per_step = synapse_counts(net)
    return EnergyReport(
        steps=int(steps.max(initial=0)),
        dt=net.spec.dt,
        spikes=spikes,
        sops=sops,
        snn_macs=snn_per_step * steps.astype(np.float64),
        ann_macs=ann_per_step * steps.astype(np.float64),
        spiking_neurons=sum(layer.size for layer in net.spec.layers if layer.neuron.spiking),
    )


def energy_objectives(report: EnergyReport) -> dict[str, np.ndarray]:
    """Totals per individual [B]: SOPs, spikes (all layers) and the estimated energy (J)."""
    return {"sops": report.sops, "spikes": report.spikes.sum(axis=1), "energy": report.snn_energy_j}
