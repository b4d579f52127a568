"""Small network builders for experiment configs (`network: {builder: "evolution.builders:...", kwargs: ...}`)
and the registries of the builders and constructions a config may name (`BUILDERS`, `CONSTRUCTIONS` and their
entry-point groups)."""

from __future__ import annotations

from snncontrol.connections import Connection
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.neurons.models import LIF
from snncontrol.spec import NetworkSpec


def paired_lif_readout(
    n_pairs: int = 5,
    n_hidden: int = 10,
    n_inputs: int = 1,
    n_outputs: int = 1,
    dt: float = 0.1,
    recurrent: bool = False,
    name: str = "paired_lif_readout",
) -> NetworkSpec:
    """Paired current encoding (2 * n_pairs LIF neurons) -> n_hidden LIF (optionally recurrent) -> a leaky
    readout of n_outputs: the Burgers et al. (2023) controller shape. dt is the control step in s."""
    hidden = Layer("hidden", n_hidden, LIF(), input=Connection(), recurrent=Connection() if recurrent else None)
    layers = (paired_encoding("encoder", n_pairs, n_inputs), hidden, leaky_readout("readout", n_outputs))
    return NetworkSpec(n_inputs=n_inputs, layers=layers, dt=dt, name=name)


#: The project's own network builders, by the short name a config may use instead of the "module:function"
#: reference (either is accepted). Packages add theirs as entry points of ENTRY_POINT_GROUP; any other module
#: needs `snncontrol evolve --allow-import MODULE` (see `evolution.imports`).
BUILDERS: dict[str, str] = {
    "paired_lif_readout": "evolution.builders:paired_lif_readout",
    "blimp.pd_snn": "snncontrol.controllers.blimp:pd_snn",
    "blimp.i_snn": "snncontrol.controllers.blimp:i_snn",
    "ncap.ncap_spec": "snncontrol.controllers.ncap:ncap_spec",
    "ncap.mlp_spec": "snncontrol.controllers.ncap:mlp_spec",
}
#: Constructions whose settings a config may evolve (`network.construction`): each returns (spec, genome, adapters).
CONSTRUCTIONS: dict[str, str] = {
    "blimp.pd_i": "snncontrol.controllers.blimp.spiking_pd:constructed_pd_i",
}
ENTRY_POINT_GROUP = "snncontrol.builders"
CONSTRUCTION_ENTRY_POINT_GROUP = "snncontrol.constructions"
