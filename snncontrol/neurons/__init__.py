"""Neuron models: specifications (`models`) and their equations, written once (`equations`)."""

from snncontrol.neurons.models import LIF, Graded, LeakyIntegrator, NeuronModel

__all__ = ["LIF", "Graded", "LeakyIntegrator", "NeuronModel"]
