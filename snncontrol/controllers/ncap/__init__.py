"""NCAP swimmer controllers (Bhattasali et al. 2022) on the SNN core: the circuit builder for any body length
(`ncap_spec`, graded and spiking variants), its swimmer adapters (`ncap_io`), re-instantiation of evolved
shared weights on another body (`retarget`), the MLP baseline (`mlp_spec`) and closed-loop swimming (`swim`).
"""

from snncontrol.controllers.ncap.circuit import (
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
    ncap_spec,
    ncap_weights,
    paper_genome,
    parse_spec_name,
    retarget,
    with_commands,
)
from snncontrol.controllers.ncap.mlp import mlp_spec
from snncontrol.controllers.ncap.swim import Perturbation, SwimResult, swim

__all__ = [
    "PERIOD",
    "SPIKING",
    "VARIANTS",
    "WEIGHT_NAMES",
    "WEIGHT_SIGNS",
    "Perturbation",
    "SpikingConstants",
    "SwimResult",
    "effective_weights",
    "joint_limit",
    "mlp_spec",
    "ncap_genome",
    "ncap_io",
    "ncap_spec",
    "ncap_weights",
    "paper_genome",
    "parse_spec_name",
    "retarget",
    "swim",
    "with_commands",
]
