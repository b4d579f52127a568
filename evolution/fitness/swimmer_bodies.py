"""NCAP swimmers over the swimmer body envelope (`SwimmerBodiesConfig`): each generation, every individual swims
the same `bodies` bodies drawn anew from `sim_envs.swimmer.envelope.SwimmerEnvelope()`, its shared weights
re-instantiated for each body's links (`snncontrol.controllers.ncap.retarget`); objective `log_return`, the mean
over the bodies of ln(max(return, 1)) (maximized).

Body k of generation g is the first draw of the envelope's stream for derive_seed(run seed, g, k), which also
seeds its episode; validation body k that of derive_seed(run seed, VALIDATION_KEY, k). Held-out grading
(`benchmarks/ncap_bodies.py`) draws its bodies from the stream of one seed (0 by default) and its episodes from
seeds 20000..: no run's bodies are those.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from evolution.config import SwimmerBodiesConfig
from evolution.errors import ConfigError
from evolution.rng import VALIDATION_KEY, derive_seed
from sim_envs.swimmer.envelope import SwimmerEnvelope
from snncontrol.controllers.ncap import ncap_io, ncap_options, retarget_population
from snncontrol.errors import SpecError
from snncontrol.evaluation.swimming import swim
from snncontrol.spec import NetworkSpec


def body_of(seed: int) -> tuple[int, dict[str, Any]]:
    """(links, body keywords link_length, gear, viscosity, density) of the envelope's body for `seed`."""
    body = SwimmerEnvelope().bodies(seed, 1)[0]
    return body.pop("n_links"), body


class SwimmerBodiesFitness:
    def __init__(self, cfg: SwimmerBodiesConfig, spec: NetworkSpec, seed: int) -> None:
        try:
            n_links = ncap_options(spec)["n_links"]
        except SpecError as exc:
            raise ConfigError(f"fitness swimmer_bodies needs an NCAP network (ncap_spec): {exc}") from None
        self.cfg, self.spec, self.seed = cfg, spec, seed
        #: the NCAP's own body's adapters, stored with the champion unless the config gives its own
        self.io = ncap_io(n_links)
        self.selection_loss = self._validation_loss if cfg.validation_bodies else None

    def generation_data(self, generation: int) -> dict[str, np.ndarray]:
        """Body (and episode) seeds of this generation, [bodies]."""
        return {"seeds": np.array([derive_seed(self.seed, generation, k) for k in range(self.cfg.bodies)])}

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        """genomes [P, D] -> [P, 1]: the mean over the bodies of ln(max(return, 1))."""
        scores = [np.log(np.maximum(self.returns(genomes, int(seed)), 1.0)) for seed in data["seeds"]]
        return np.mean(scores, axis=0)[:, None]

    def returns(self, genomes: np.ndarray, seed: int) -> np.ndarray:
        """Each genome's return [P] on the envelope's body for `seed` (one episode, reset with `seed`)."""
        links, body = body_of(seed)
        spec, retargeted, io = retarget_population(self.spec, genomes, links)
        result = swim(spec, retargeted, io, links, [seed], self.cfg.episode_steps, n_threads=self.cfg.n_threads,
                      env_kwargs=body)
        return result.returns

    def _validation_loss(self, genome: np.ndarray) -> float:
        """-log_return of one genome [D] over the fixed validation bodies (lower is better)."""
        seeds = np.array([derive_seed(self.seed, VALIDATION_KEY, k) for k in range(self.cfg.validation_bodies)])
        return -float(self.evaluate(genome[None], {"seeds": seeds})[0, 0])
