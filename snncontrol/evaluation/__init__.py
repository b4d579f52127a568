"""Closed-loop evaluation of controllers: flights in the simulated plants, tracking metrics, plots."""
