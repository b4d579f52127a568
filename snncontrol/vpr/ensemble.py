"""The trained ensemble: M modules of N excitatory neurons, each module responsible for a region of places.

Tensors (M modules, N excitatory neurons each, n_in inputs):
    weights      float32 [M, n_in, N]  STDP-learned input -> exc weights (dimensionless, 0..w_max)
    adaptation   float32 [M, N]        adaptive thresholds at the end of training (mV above the base threshold);
                                       the homeostasis of learning, not used at query time (see `thresholds`)
    assignments  int64 [M, N]          global place index each neuron answers for (-1: never fired, silenced)
    hyperactive  bool [M, N]           neurons silenced at query time (fired for >= `threshold` reference images
                                       of a traversal, on average over the reference traversals)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import torch

from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.module import Constants


@dataclass
class Ensemble:
    module: ModuleConfig
    train: TrainConfig
    places: int
    weights: torch.Tensor
    adaptation: torch.Tensor
    assignments: torch.Tensor
    hyperactive: torch.Tensor
    threshold: int = 0  # T: hyperactive threshold in reference images (0: none removed)
    epochs: int = 0  # epochs the weights were trained for
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def modules(self) -> int:
        return self.weights.shape[0]

    def silenced(self) -> torch.Tensor:
        """[M, N] bool: neurons that cannot fire at query time (unassigned or hyperactive)."""
        return (self.assignments < 0) | self.hyperactive

    def thresholds(self, c: Constants) -> torch.Tensor:
        """Query-time excitatory thresholds [M, N] (mV above rest): the base threshold for every neuron, +inf
        for the silenced ones. The adaptive part is dropped after training: it grew with how often a neuron
        won during learning, so keeping it would rank neurons of different modules by their training history
        rather than by how well they match the query (on 100 generated places Recall@1 0.34 instead of 0.63)."""
        return torch.full((self.modules, self.module.n_exc), c.theta_e).masked_fill(self.silenced(), float("inf"))

    def with_threshold(self, threshold: int, counts: torch.Tensor) -> Ensemble:
        """A copy silencing the neurons that fired for >= `threshold` reference images (`counts` [M, N])."""
        mask = counts >= threshold if threshold > 0 else torch.zeros_like(counts, dtype=torch.bool)
        return replace(self, hyperactive=mask, threshold=threshold)

    def live_slots(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(keep, live), both [M, L]: the neuron index of each slot of `compact()` (the neurons that can fire, in
        their order, then silenced ones as padding) and whether that slot's neuron can fire."""
        live = ~self.silenced()
        width = max(int(live.sum(dim=1).max()), 1)
        keep = live.to(torch.uint8).sort(dim=1, descending=True, stable=True).indices[:, :width]
        return keep, live.gather(1, keep)

    def compact(self) -> Ensemble:
        """The same ensemble for queries, keeping per module only the neurons that can fire (in their order),
        padded with silenced neurons to the largest count L: N becomes L (at most one neuron per place under
        the winner-take-all assignment, so ~25 instead of 400). A silenced neuron never fires and so never
        inhibits, so both passes answer exactly as on the full ensemble; they do ~N / L times less work."""
        keep, slot_live = self.live_slots()
        return replace(
            self,
            module=replace(self.module, n_exc=keep.shape[1]),
            weights=self.weights.gather(2, keep[:, None, :].expand(-1, self.module.n_in, -1)).contiguous(),
            adaptation=self.adaptation.gather(1, keep),
            assignments=self.assignments.gather(1, keep).masked_fill(~slot_live, -1),
            hyperactive=torch.zeros_like(slot_live),
        )


def place_table(places: int, per_module: int) -> torch.Tensor:
    """[M, K] global place index of the k-th place of module m; -1 pads the last module."""
    modules = -(-places // per_module)
    table = torch.arange(modules * per_module).view(modules, per_module)
    return table.masked_fill(table >= places, -1)
