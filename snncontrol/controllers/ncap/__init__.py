"""NCAP swimmer controllers (Bhattasali et al. 2022) on the SNN core: the circuit builder for any body length
(`ncap_spec`, graded and spiking variants, the fixed pacemaker ring or a clock with an evolvable period read
back by `ncap_period`, its options kept in `spec.metadata`, read by `ncap_options`), its
swimmer adapters (`ncap_io`), re-instantiation of evolved shared weights on another body (`retarget`, for a
population `retarget_population`) and the
MLP baseline (`mlp_spec`). Builders only: nothing here imports a plant (MuJoCo, Gymnasium); closed-loop
swimming is `snncontrol.evaluation.swimming.swim`.
"""

from snncontrol.controllers.ncap.circuit import (
    HALF_PERIOD_BOUNDS,
    OSCILLATORS,
    PERIOD,
    SPIKING,
    VARIANTS,
    WEIGHT_NAMES,
    WEIGHT_SIGNS,
    SpikingConstants,
    effective_weights,
    joint_limit,
    ncap_genome,
    ncap_io,
    ncap_options,
    ncap_period,
    ncap_spec,
    ncap_weights,
    paper_genome,
    retarget,
    retarget_population,
    with_commands,
)
from snncontrol.controllers.ncap.mlp import mlp_spec

__all__ = [
    "HALF_PERIOD_BOUNDS",
    "OSCILLATORS",
    "PERIOD",
    "SPIKING",
    "VARIANTS",
    "WEIGHT_NAMES",
    "WEIGHT_SIGNS",
    "SpikingConstants",
    "effective_weights",
    "joint_limit",
    "mlp_spec",
    "ncap_genome",
    "ncap_io",
    "ncap_options",
    "ncap_period",
    "ncap_spec",
    "ncap_weights",
    "paper_genome",
    "retarget",
    "retarget_population",
    "with_commands",
]
