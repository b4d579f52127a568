"""CMA-ES on DEAP's `cma.Strategy`, in the unit cube, with out-of-bounds rejection and optional IPOP restarts.

The strategy is DEAP's `cma.Strategy`, or with `covariance: diagonal` the separable variant
(`evolution.strategies.sep_cma`: O(D) per generation instead of O(D^3), for networks of thousands of
parameters). Sampling is x = centroid + sigma * z B D^T, z ~ N(0, I) from numpy's global RNG; samples that leave
the cube are redrawn (up to `max_redraws` rounds, then clipped) or clipped at once (`out_of_bounds: clip`);
with a diagonal covariance only the coordinates that left are redrawn (the same distribution, see
`_redraw_coordinates`). With `restarts > 0`, a run that converged (sigma * largest axis < tol_x, condition
number > 1e14, or the best of the last `stagnation` generations spanning <= tol_fun) restarts from a new
uniform mean with the population multiplied by `ipop_factor` (IPOP-CMA-ES); `initial_mean` (center,
spec_init) and a seed genome place the first start only. Without restarts, a search that has
collapsed (sigma * smallest axis below `COLLAPSED`, far below a step that moves a point of the cube) stops
adapting: DEAP's update divides by sigma ** 2, which underflows to 0 near 1e-162, and a converged run went on to
NaN axes and a crash it could not resume past.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from deap import cma

from evolution.config import CMAESConfig
from evolution.strategies.base import Individual
from evolution.strategies.sep_cma import SeparableStrategy

MAX_CONDITION = 1e14
COLLAPSED = 1e-100  # sigma * smallest axis below which the strategy stops adapting (its samples are its mean)


class CMAES:
    def __init__(
        self, cfg: CMAESConfig, cls: type[Individual], dim: int, seed: np.ndarray | None, spec_init: np.ndarray
    ) -> None:
        cfg.check_dimension(dim)
        self.cfg, self.cls, self.dim = cfg, cls, dim
        self.seed, self.spec_init = seed, spec_init
        self.restart = 0
        self.history: list[float] = []  # best weighted fitness of the last `stagnation` generations since a restart
        self.es = self._new_strategy()

    def _new_strategy(self) -> cma.Strategy | SeparableStrategy:
        if self.seed is not None and self.restart == 0:
            centroid = self.seed
        elif self.cfg.initial_mean == "center" and self.restart == 0:
            centroid = np.full(self.dim, 0.5)
        elif self.cfg.initial_mean == "spec_init" and self.restart == 0:
            centroid = self.spec_init
        else:
            centroid = np.random.uniform(0.0, 1.0, self.dim)
        options: dict[str, Any] = {}
        if self.cfg.population is not None:
            options["lambda_"] = round(self.cfg.population * self.cfg.ipop_factor**self.restart)
        elif self.restart:
            options["lambda_"] = round(int(4 + 3 * np.log(self.dim)) * self.cfg.ipop_factor**self.restart)
        if self.cfg.mu is not None and self.restart == 0:
            options["mu"] = self.cfg.mu
        kind = SeparableStrategy if self.cfg.covariance == "diagonal" else cma.Strategy
        return kind(centroid=np.asarray(centroid, dtype=np.float64), sigma=self.cfg.sigma, **options)

    def _draw(self, n: int) -> np.ndarray:
        es = self.es
        z = np.random.standard_normal((n, self.dim))
        return es.centroid + es.sigma * (es.directions(z) if isinstance(es, SeparableStrategy) else z @ es.BD.T)

    def generate(self) -> list[Individual]:
        points = self._draw(self.es.lambda_)
        if self.cfg.out_of_bounds == "reject":
            redraw = self._redraw_coordinates if isinstance(self.es, SeparableStrategy) else self._redraw_samples
            for _ in range(self.cfg.max_redraws):
                outside = (points < 0.0) | (points > 1.0)
                if not outside.any():
                    break
                redraw(points, outside)
        return [self.cls(row) for row in np.clip(points, 0.0, 1.0)]

    def _redraw_samples(self, points: np.ndarray, outside: np.ndarray) -> None:
        """Full covariance: a sample with any coordinate outside the cube is redrawn whole."""
        rows = outside.any(axis=1)
        points[rows] = self._draw(int(rows.sum()))

    def _redraw_coordinates(self, points: np.ndarray, outside: np.ndarray) -> None:
        """Diagonal covariance: coordinates are independent, so redrawing only those outside the cube gives the
        same distribution as redrawing whole samples (each coordinate a normal truncated to [0, 1]), while a
        whole sample of thousands of coordinates would almost never land inside."""
        rows, cols = np.nonzero(outside)
        es = self.es
        points[rows, cols] = es.centroid[cols] + es.sigma * es.diagD[cols] * np.random.standard_normal(len(cols))

    def update(self, population: list[Individual]) -> None:
        if self.es.sigma * self.es.diagD.min() >= COLLAPSED:
            self.es.update(population)
        self.history.append(max(ind.fitness.wvalues[0] for ind in population))
        del self.history[: -self.cfg.stagnation]  # (all of it went into every checkpoint: a long run's grew)
        if self.restart < self.cfg.restarts and self._converged():
            self.restart += 1
            self.history = []
            self.es = self._new_strategy()

    def _converged(self) -> bool:
        es, recent = self.es, self.history
        return bool(
            es.sigma * es.diagD.max() < self.cfg.tol_x
            or es.cond > MAX_CONDITION
            or (len(recent) == self.cfg.stagnation and max(recent) - min(recent) <= self.cfg.tol_fun)
        )

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Every numeric attribute of DEAP's Strategy (centroid, sigma, C, pc, ps, B, diagD, BD, weights,
        update_count, ...), the restart count and the stagnation history."""
        arrays = {f"cma_{k}": v for k, v in vars(self.es).items() if isinstance(v, np.ndarray)}
        scalars = {
            k: v.item() if isinstance(v, np.generic) else v
            for k, v in vars(self.es).items()
            if isinstance(v, int | float | np.generic)
        }
        return {"restart": self.restart, "history": self.history, "cma": scalars}, arrays

    def load_state(self, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
        """Restore what `state` wrote; ValueError or KeyError (one line) unless it holds every array of the
        strategy, finite and of its shape, and every scalar as a finite number (the population sizes as the
        config and restart count give them)."""
        restart, history, scalars = meta["restart"], meta["history"], meta["cma"]
        if not isinstance(restart, int) or not 0 <= restart <= self.cfg.restarts:
            raise ValueError(f"restart must be an integer in [0, {self.cfg.restarts}], got {restart!r:.40}")
        if not isinstance(history, list) or not all(_finite(v) for v in history):
            raise ValueError("history must be a list of finite numbers")
        self.restart, self.history = restart, list(history)
        self.es = self._new_strategy()
        for key, fresh in list(vars(self.es).items()):
            if isinstance(fresh, np.ndarray):
                value = arrays[f"cma_{key}"]
                if value.shape != fresh.shape or value.dtype.kind != "f" or not np.isfinite(value).all():
                    raise ValueError(
                        f"cma_{key} must be finite floats of shape {fresh.shape}, got {value.dtype} {value.shape}"
                    )
            elif isinstance(fresh, int | float | np.generic):
                value = scalars[key]
                if not _finite(value):
                    raise ValueError(f"cma scalar {key} must be a finite number, got {value!r:.40}")
                if key in ("lambda_", "mu", "dim") and value != fresh:  # (dim -1: a ZeroDivisionError traceback)
                    raise ValueError(f"cma {key} must be {fresh} (config, restart count and network), got {value}")
                if key == "sigma" and not value > 0:
                    raise ValueError(f"cma sigma must be > 0, got {value}")
            else:
                continue
            setattr(self.es, key, value)


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
