"""Micro-blimp altitude plants (Burgers et al. 2023): the MuJoCo plant (MJCF, thrust unit, batched plant), a
second, independently formulated 1-D ODE plant, and their Gymnasium envs."""

from sim_envs.blimp.env import (
    BlimpAltitudeEnv,
    BlimpAltitudeODEEnv,
    BlimpAltitudeODEVectorEnv,
    BlimpAltitudeVectorEnv,
)

__all__ = ["BlimpAltitudeEnv", "BlimpAltitudeODEEnv", "BlimpAltitudeODEVectorEnv", "BlimpAltitudeVectorEnv"]
