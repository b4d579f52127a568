"""Micro-blimp altitude plant (Burgers et al. 2023): MJCF, thrust unit, batched plant and Gymnasium envs."""

from sim_envs.blimp.env import BlimpAltitudeEnv, BlimpAltitudeVectorEnv

__all__ = ["BlimpAltitudeEnv", "BlimpAltitudeVectorEnv"]
