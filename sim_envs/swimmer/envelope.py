"""The range of swimmer bodies a controller should swim, and held-out bodies drawn from it.

`SwimmerEnvelope()` names it: 3 to 12 links of 0.05 to 0.2 m, motors of 0.5 to 2 times the NCAP gear, in fluids
from water's viscosity (1e-3 Pa·s) to a hundred times more viscous, density 1000 (water's) to 6000 kg/m³.
Log-uniform draws for the factors that span decades (gear, viscosity). The training body of the shipped NCAP (6
links of 0.1 m, gear 5e-4 N·m, water's viscosity at 3000 kg/m³, the density of dm_control's swimmer fluid, three
times water's) lies inside it; continuous draws never repeat it. `bodies(seed, n)` gives the keyword sets of `n`
bodies (for `SwimmerEnv` / `SwimmerVectorEnv` / `snncontrol eval-swimmer`), the same for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim_envs import validation
from sim_envs.swimmer.mjcf import GEAR, MAX_LINK_LENGTH, MAX_LINKS, MIN_LINK_LENGTH, MIN_LINKS


@dataclass(frozen=True)
class SwimmerEnvelope:
    """Ranges (low, high) of the body: links (integers), link_length (m), gear_scale (x the NCAP gear),
    viscosity (Pa·s), density (kg/m³)."""

    links: tuple[int, int] = (3, 12)
    link_length: tuple[float, float] = (0.05, 0.2)
    gear_scale: tuple[float, float] = (0.5, 2.0)
    viscosity: tuple[float, float] = (1e-3, 1e-1)
    density: tuple[float, float] = (1000.0, 6000.0)

    def __post_init__(self) -> None:
        low, high = self.links
        validation.integer_in("links[0]", low, MIN_LINKS, MAX_LINKS)
        validation.integer_in("links[1]", high, low, MAX_LINKS)
        validation.interval("link_length", self.link_length, MIN_LINK_LENGTH, MAX_LINK_LENGTH)
        validation.interval("gear_scale", self.gear_scale, 1e-3, 1e3)
        validation.interval("viscosity", self.viscosity, 1e-6, 10.0)
        validation.interval("density", self.density, 0.0, 1e5)

    def bodies(self, seed: int, n: int) -> list[dict[str, Any]]:
        """`n` bodies drawn with `seed` (an integer >= 0): keyword sets n_links, link_length (m), gear (N·m),
        viscosity (Pa·s), density (kg/m³)."""
        seed = validation.integer_in("seed", seed, 0)
        rng = np.random.default_rng([seed, 0x5717])  # (a stream of its own: no other draw of `seed` repeats it)

        def log_uniform(bounds: tuple[float, float]) -> float:
            return float(np.exp(rng.uniform(np.log(bounds[0]), np.log(bounds[1]))))

        drawn = []
        for _ in range(validation.integer_in("n", n, 1, 10**6)):
            drawn.append({
                "n_links": int(rng.integers(self.links[0], self.links[1] + 1)),
                "link_length": float(rng.uniform(*self.link_length)),
                "gear": GEAR * log_uniform(self.gear_scale),
                "viscosity": log_uniform(self.viscosity),
                "density": float(rng.uniform(*self.density)),
            })
        return drawn
