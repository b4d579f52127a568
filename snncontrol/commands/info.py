"""`snncontrol info ARTIFACT`: what a controller is — network, parameters, synapses, I/O, metadata."""

from __future__ import annotations

import argparse
import json

from snncontrol.artifacts import load_controller
from snncontrol.controllers import resolve
from snncontrol.energy import synapse_counts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", help="controller artifact directory, or shipped:NAME (e.g. shipped:blimp)")
    parser.add_argument("--json", action="store_true", help="print the description as JSON")


def describe(path: str) -> dict:
    """The description of the artifact `path` (a directory or shipped:NAME) as JSON-ready data."""
    controller = load_controller(resolve(path))
    spec, net = controller.spec, controller.network
    snn_macs, ann_macs = synapse_counts(net)
    return {
        "artifact": path,
        "name": spec.name,
        "dt_s": spec.dt,
        "inputs": spec.n_inputs,
        "outputs": spec.n_outputs,
        "encoder": None if spec.encoder is None else spec.encoder.kind,
        "layers": [
            {
                "name": layer.name,
                "size": layer.size,
                "neuron": layer.neuron.kind,
                "recurrent": layer.recurrent is not None,
            }
            for layer in spec.layers
        ],
        "decoder": None if spec.decoder is None else spec.decoder.kind,
        "neurons": spec.n_neurons,
        "parameters": spec.parameters.size,
        "synapses": ann_macs,
        "real_valued_synapses": snn_macs,
        "io": controller.io.to_dict(),
        "metadata": controller.metadata.__dict__,
    }


def run(args: argparse.Namespace) -> int:
    info = describe(args.artifact)
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    print(
        f"{info['artifact']}: {info['name'] or 'controller'}, dt {info['dt_s']} s, "
        f"{info['inputs']} input(s) -> {info['outputs']} output(s)"
    )
    for layer in info["layers"]:
        rec = ", recurrent" if layer["recurrent"] else ""
        print(f"  layer {layer['name']:<12} {layer['size']:>5} x {layer['neuron']}{rec}")
    print(f"  {info['neurons']} neurons, {info['parameters']} parameters, {info['synapses']} synapses")
    meta = info["metadata"]
    print(f"  created {meta['created']}, seed {meta['seed']}, fitness {meta['fitness']}, git {meta['git_revision']}")
    if meta["description"]:
        print(f"  {meta['description']}")
    return 0
