"""Gymnasium environments on MuJoCo: the simulated plants snncontrol controllers are evolved and validated on.

Importing the package registers ``sim_envs/BlimpAltitude-v0`` (MuJoCo), ``sim_envs/BlimpAltitudeODE-v0`` (a 1-D
ODE blimp, formulated independently) and ``sim_envs/Swimmer-v0`` (see ``sim_envs.registration``). Units
throughout: m, s, rad, N, Hz.
"""

from sim_envs.blimp import BlimpAltitudeEnv, BlimpAltitudeVectorEnv
from sim_envs.registration import register_all
from sim_envs.swimmer import SwimmerEnv, SwimmerVectorEnv

register_all()

__all__ = ["BlimpAltitudeEnv", "BlimpAltitudeVectorEnv", "SwimmerEnv", "SwimmerVectorEnv"]
