"""Benchmark fitness: squared distance of the normalized genome to (c, ..., c) for each center c (unit cube).
It needs no simulation; it checks strategies, backends and checkpoints quickly."""

from __future__ import annotations

import numpy as np

from evolution.config import SphereConfig
from snncontrol.params import ParameterSpec


class SphereFitness:
    def __init__(self, cfg: SphereConfig, parameters: ParameterSpec) -> None:
        self.parameters = parameters
        self.centers = np.asarray(cfg.centers, dtype=np.float64)

    def generation_data(self, generation: int) -> dict[str, np.ndarray]:
        return {}

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        """genomes [P, D] -> sum_d (unit_d - c)^2 [P, n_centers]."""
        unit = self.parameters.normalize(genomes)
        return ((unit[:, None, :] - self.centers[None, :, None]) ** 2).sum(axis=2)
