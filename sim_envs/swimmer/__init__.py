"""N-link swimmer in a viscous fluid (NCAP): MJCF generator, batched plant and Gymnasium environments."""

from sim_envs.swimmer.env import SwimmerEnv, SwimmerVectorEnv

__all__ = ["SwimmerEnv", "SwimmerVectorEnv"]
