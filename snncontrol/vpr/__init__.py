"""Visual place recognition with ensembles of spiking winner-take-all modules (Hussaini, Milford & Fischer
2023) on the snncontrol core: preprocessing, STDP training batched over modules, fast queries, metrics,
image-folder and ROS 2 bag datasets. Python API for nodes: `Matcher` (see `query.py`)."""

from snncontrol.vpr.query import Matcher

__all__ = ["Matcher"]
