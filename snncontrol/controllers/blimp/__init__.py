"""Blimp altitude control with SNNs that mimic a PID (Burgers et al., 2023): networks, mimicry datasets,
recordings of users' own flights."""

from snncontrol.controllers.blimp.networks import HIDDEN_VARIANTS, blimp_snn, i_snn, pd_snn

__all__ = ["HIDDEN_VARIANTS", "blimp_snn", "i_snn", "pd_snn"]
