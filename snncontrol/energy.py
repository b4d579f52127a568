"""Energy accounting: spikes, synaptic operations (SOPs) and an energy estimate, next to the MAC count of an
equally shaped non-spiking network.

Definitions (per individual, over the steps counted in a `NetworkState`):
- SOPs = sum over spikes of the spiking neuron's fan-out (synapses it drives), i.e. accumulate operations; the
  fan-out is the connectivity's (`Connection.structure`), the same for every individual: a synapse whose weight is
  0 (evolved or held there, or clamped by a sign constraint, as in the NCAP circuit) still counts, as a chip that
  stores the connectivity would still route the event to it;
- MACs of the SNN = synapses whose source is real-valued (network input currents, leaky-integrator or graded
  outputs), counted every step, since those inputs are multiplied, not accumulated;
- MACs of the equally shaped ANN = every synapse of the same connectivity, every step;
- energy = SOPs x E_AC + MACs x E_MAC, with 45 nm CMOS figures for 32-bit floats (Horowitz, ISSCC 2014):
  E_MAC = 4.6 pJ per multiply-accumulate, E_AC = 0.9 pJ per accumulate. These are estimates for comparing
  architectures, not measurements of any chip.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from snncontrol.network import Network, NetworkState

E_MAC_J = 4.6e-12
E_AC_J = 0.9e-12


@dataclass(frozen=True)
class EnergyReport:
    """Totals per individual ([P] arrays) over `steps` steps of `dt` s."""

    steps: int
    dt: float
    spikes: np.ndarray  # [P, L] per layer
    sops: np.ndarray  # [P]
    snn_macs: np.ndarray  # [P]
    ann_macs: np.ndarray  # [P]
    spiking_neurons: int

    @property
    def duration_s(self) -> float:
        return self.steps * self.dt

    @property
    def spike_rate_hz(self) -> np.ndarray:
        """Mean firing rate of the spiking neurons (Hz), [P]."""
        if self.spiking_neurons == 0 or self.steps == 0:
            return np.zeros(self.sops.shape)
        return self.spikes.sum(axis=1) / (self.spiking_neurons * self.duration_s)

    @property
    def snn_energy_j(self) -> np.ndarray:
        return self.sops * E_AC_J + self.snn_macs * E_MAC_J

    @property
    def ann_energy_j(self) -> np.ndarray:
        return self.ann_macs * E_MAC_J

    def per_second(self, value: np.ndarray) -> np.ndarray:
        return value / self.duration_s if self.steps else np.zeros_like(value)

    def since(self, earlier: EnergyReport) -> EnergyReport:
        """The figures of the steps between `earlier` and this report of the same network state (e.g. a ROS
        node's diagnostics window)."""
        counted = ("steps", "spikes", "sops", "snn_macs", "ann_macs")
        return replace(self, **{name: getattr(self, name) - getattr(earlier, name) for name in counted})

    def summary(self, individual: int = 0) -> dict[str, float]:
        """A flat dict of one individual's figures (per second where it says so), for tables and diagnostics."""
        return {
            "spikes_per_s": float(self.per_second(self.spikes.sum(axis=1))[individual]),
            "spike_rate_hz": float(self.spike_rate_hz[individual]),
            "sops_per_s": float(self.per_second(self.sops)[individual]),
            "snn_macs_per_s": float(self.per_second(self.snn_macs)[individual]),
            "ann_macs_per_s": float(self.per_second(self.ann_macs)[individual]),
            "snn_power_w": float(self.per_second(self.snn_energy_j)[individual]),
            "ann_power_w": float(self.per_second(self.ann_energy_j)[individual]),
        }


def synapse_counts(net: Network) -> tuple[int, int]:
    """(MACs per step of the SNN's real-valued synapses, MACs per step of the equally shaped ANN)."""
    snn = ann = 0
    for layer, lay in zip(net.spec.layers, net.layout, strict=True):
        incoming = [
            (layer.input, lay.n_in, lay.source_spiking),
            (layer.threshold_input, lay.n_in, lay.source_spiking),
            (layer.recurrent, lay.n, layer.neuron.spiking),
        ]
        for conn, rows, spiking in incoming:
            if conn is None:
                continue
            count = int(conn.structure(rows, lay.n).sum())
            ann += count
            snn += 0 if spiking else count
    return snn, ann


def counters_report(net: Network, spikes: np.ndarray, sops: np.ndarray, steps: np.ndarray) -> EnergyReport:
    """Energy figures of counters that each individual stopped at its own step count (e.g. at its episode's end,
    or a ROS node's window): spikes [P, L], sops [P] and steps [P] counted since `init_state`. Totals and MACs
    are each individual's own; the report's duration is the longest count, so the per-second figures of an
    individual that stopped earlier are understated by that ratio."""
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


def energy_report(net: Network, state: NetworkState) -> EnergyReport:
    """Energy figures of every individual from the counters a state has accumulated since `init_state`."""
    batch = state.sops.shape[0]
    spikes, sops = state.spikes.double().numpy().copy(), state.sops.double().numpy().copy()
    return counters_report(net, spikes, sops, np.full(batch, int(state.steps)))
