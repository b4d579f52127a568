"""Bounded variation in the unit cube shared by the GA and NSGA-II: simulated binary crossover and polynomial
mutation (DEAP's bounded operators, Python's `random`), so offspring never leave [0, 1]^D."""

from __future__ import annotations

from deap import base, tools


def bounded_toolbox(eta_crossover: float, eta_mutation: float, indpb: float | None, dim: int) -> base.Toolbox:
    """A toolbox with `mate` and `mutate` bounded to [0, 1]; indpb None means 1 / dim."""
    toolbox = base.Toolbox()
    toolbox.register("mate", tools.cxSimulatedBinaryBounded, eta=eta_crossover, low=0.0, up=1.0)
    toolbox.register(
        "mutate", tools.mutPolynomialBounded, eta=eta_mutation, low=0.0, up=1.0, indpb=indpb or 1.0 / dim
    )
    return toolbox
