"""Evolutionary search of SNN controller parameters (DEAP strategies, batched fitness, parallel backends)."""
