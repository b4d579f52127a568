"""Controllers in simulated plants (`sim_envs`): blimp flights and swims, the reports over them, and the blimp
mimicry datasets recorded from flights. Above the SNN core and `snncontrol.controllers`; nothing in the core
imports this package."""
