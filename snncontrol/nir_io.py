"""NIR interoperability: export a controller to the Neuromorphic Intermediate Representation and import it back.

Units: `dt` (the network's control step) and every NIR time constant (`tau`, `tau_syn`, `tau_mem`) are in s;
weights, biases, thresholds and currents are in the network's dimensionless membrane units.

Graph shape (what `export_nir` writes and `import_nir` reads):

    input -> L1.w_in -> L1.neuron -> L2.w_in -> L2.neuron -> ... -> output
                          ^    |
                          +----+  L.w_rec (only for recurrent layers: a cycle neuron -> w_rec -> neuron)

`L.w_in` is an `nir.Affine` (weight [out, in] = our w_in transposed, bias = the layer's bias) or an
`nir.Linear` when the layer has no bias; `L.w_rec` is an `nir.Linear`. The recurrent edge carries the
layer's output of the previous step, as in every discrete-time NIR simulator. Neuron nodes: `nir.CubaLIF`
(synaptic LIF), `nir.LIF` (plain LIF), `nir.LI` (`LeakyIntegrator`); `v_leak = 0`, `v_reset = 0`.

Discretization (forward Euler with step dt, current updated before the membrane, as snnTorch and Norse do):

    decay = 1 - dt / tau            <=>  tau = dt / (1 - decay)      (decay = 1, no leak: tau = dt * 2**40)
    r = tau_mem / dt,  w_in = tau_syn / dt                            (unit input gain per step)

A decay of 1 (an integrating neuron) is written as tau = dt * 2**40 (`NO_LEAK_STEPS` steps), finite, so that a
reader's gains `w_in dt / tau_syn` and `r dt / tau` are exactly 1 (tau = inf made them inf / inf = NaN) and its
decay 1 - 2**-40 leaks 1e-6 of the value in 10^6 steps; on import tau >= dt * 2**40 (or inf) reads as decay 1.

One Euler step of NIR's `tau_syn I' = -I + w_in x`, `tau_mem v' = (v_leak - v) + r I` is then exactly our
update `i = decay_syn i + x`, `v = decay_mem v + i` (LIF / LI: `v = decay v + x`). On import, a graph whose
gains differ from this convention (e.g. `r = 1`) has the per-step gain `w_in dt / tau_syn * r dt / tau_mem`
(LIF / LI: `r dt / tau`) folded into the incoming weights and bias; `inf / inf` ratios (`tau = r = inf`,
`tau_syn = w_in = inf`, as files written before `NO_LEAK_STEPS` have) read as the convention's `1 / dt`. Time
constants shorter than dt (decay < 0) are rejected: import with a smaller dt.

Metadata. The graph holds `dt` (s), `name`, `discretization` and, where given (`export_nir(..., adapters=...)`; the
export command gives the artifact's), `io`: the controller's I/O adapters as JSON (`IOAdapters.to_dict`), which
`import_io` reads back (the identity pair where a file has none). Each neuron node holds `snncontrol`, a JSON
string with the layer name, the exact per-step decays (so our own import is bit-exact rather than going
through `tau`; they are used only where they agree with the node's time constants) and, for LIF, `reset`
and `refractory`. These features have no NIR equivalent and live in this metadata only, read by our importer
(other tools see a hard reset to 0, no refractory period, a fixed threshold and no input stage, and so simulate
another network: the shipped blimp's outputs differ by up to 12 command units); `metadata_only_features` lists
those of a network (`snncontrol export-nir` warns of them), `export_nir(..., strict=True)` rejects them:
- soft reset (the crossed threshold is subtracted at the next step, undecayed),
- the refractory period (steps),
- LIF threshold adaptation: "spike" (`decay_th`, `beta` in the node's metadata) and "iwta" (also the
  threshold weights `w_th`, [out, in] like NIR weights, from the layer's input),
- the sample-hold input stage (`SampleHoldEncoder`: input conditioning that holds the last finite sample;
  graph metadata `encoder`).

Not exportable (`SpecError` naming the feature): other encoders, decoders, `Graded` units, synaptic delays.

Import: rebuilds a stack of dense layers from the effective weights. Tied / shared / masked / signed
structure is flattened to dense effective weights (same dynamics, different genome layout); a zero weight is
no synapse (masked), so the energy report counts the synapses of nonzero weight: as many as the original
network's where it has no synapse of zero weight (the shipped blimp controller's SOPs are the same after a
round trip, tests/test_nir.py). Every imported
value goes into the genome; where a value lies outside a parameter's default bounds the layer gets a
`bounds` override widened just enough to contain it. Graphs without our metadata are read as NIR defines
them: hard reset to `v_reset`, which must be 0; `v_leak` must be 0.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nir
import numpy as np
import torch

from snncontrol import atomic
from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import check_adapters
from snncontrol.connections import Connection
from snncontrol.encoders import SampleHoldEncoder, encoder_from_dict
from snncontrol.errors import ArtifactError, GenomeError, SpecError
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons.models import LIF, NEURON_FIELDS, Graded, LeakyIntegrator, NeuronModel
from snncontrol.spec import NetworkSpec

DISCRETIZATION = "forward_euler: decay = 1 - dt/tau, r = tau_mem/dt, w_in = tau_syn/dt"
META_KEY = "snncontrol"
_NEURON_TYPES = (nir.CubaLIF, nir.LIF, nir.LI)
_WEIGHT_TYPES = (nir.Affine, nir.Linear)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GAIN_TOL = 1e-9  # |gain - 1| below this is float noise of the tau round trip: the gain is exactly 1
#: A decay of 1 (no leak) is written as tau = dt * NO_LEAK_STEPS (see the module docstring): a power of 2, so that
#: tau / dt and dt / tau are exact.
NO_LEAK_STEPS = 2.0**40
#: Suffixes of a NIR file (HDF5) that `save_nir` writes, and the signature an HDF5 file starts with.
NIR_SUFFIXES = (".nir", ".h5", ".hdf5")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


# --- export ----------------------------------------------------------------------------------------------------
def _time_constant(decay: np.ndarray, dt: float) -> np.ndarray:
    """tau = dt / (1 - decay) in s; decay 1 (no leak) gives dt * NO_LEAK_STEPS."""
    with np.errstate(divide="ignore"):
        return np.where(decay >= 1.0, dt * NO_LEAK_STEPS, dt / (1.0 - decay))


def _metadata_only(spec: NetworkSpec) -> list[tuple[str | None, str]]:
    """(layer name or None for the network, feature) for every feature of `spec` that only our metadata carries."""
    found: list[tuple[str | None, str]] = []
    if isinstance(spec.encoder, SampleHoldEncoder):
        found.append((None, "the sample-hold input stage"))
    for layer in spec.layers:
        neuron = layer.neuron
        if isinstance(neuron, LIF):
            if neuron.adaptation != "none":
                found.append((layer.name, f"LIF adaptation {neuron.adaptation!r}"))
            if neuron.reset == "soft":
                found.append((layer.name, "soft reset"))
            if neuron.refractory:
                found.append((layer.name, "refractory period"))
    return found


def metadata_only_features(spec: NetworkSpec) -> list[str]:
    """The features of `spec` that a plain NIR reader (one that ignores our metadata) does not see, one phrase
    each naming its layers, e.g. ["soft reset (layers encoder, hidden)", "LIF adaptation 'iwta' (layer hidden)",
    "the sample-hold input stage"]: empty where such a reader simulates the same network."""
    layers: dict[str, list[str]] = {}
    for layer, feature in _metadata_only(spec):
        layers.setdefault(feature, []).extend([] if layer is None else [layer])
    return [
        feature if not names else f"{feature} (layer{'s' if len(names) > 1 else ''} {', '.join(names)})"
        for feature, names in layers.items()
    ]


def _check_exportable(spec: NetworkSpec, strict: bool) -> None:
    if strict and (features := _metadata_only(spec)):
        layer, feature = features[0]
        where = "" if layer is None else f"layer {layer!r}: "
        raise SpecError(f"NIR export: {where}{feature} has no NIR equivalent (strict export)")
    if spec.encoder is not None and not isinstance(spec.encoder, SampleHoldEncoder):
        raise SpecError(f"NIR export: encoder {spec.encoder.kind!r} has no NIR equivalent (use an encoding layer)")
    if spec.decoder is not None:
        raise SpecError(f"NIR export: decoder {spec.decoder.kind!r} has no NIR equivalent (use leaky_readout)")
    for layer in spec.layers:
        where = f"NIR export: layer {layer.name!r}"
        neuron = layer.neuron
        if isinstance(neuron, Graded):
            raise SpecError(f"{where}: Graded units have no NIR equivalent")
        if layer.input.max_delay:
            raise SpecError(f"{where}: synaptic delays cannot be exported")


def _neuron_node(neuron: NeuronModel, fields: dict[str, np.ndarray], dt: float, name: str) -> nir.NIRNode:
    decay_mem = fields["decay_mem"]
    tau_mem = _time_constant(decay_mem, dt)
    zeros = np.zeros_like(decay_mem)
    meta: dict[str, Any] = {"layer": name, "decay_mem": decay_mem.tolist()}
    if isinstance(neuron, LeakyIntegrator):
        return nir.LI(tau=tau_mem, r=tau_mem / dt, v_leak=zeros, metadata={META_KEY: json.dumps(meta)})
    assert isinstance(neuron, LIF)
    meta.update(reset=neuron.reset, refractory=neuron.refractory)
    if neuron.adaptation != "none":
        meta.update(adaptation=neuron.adaptation, decay_th=fields["decay_th"].tolist(), beta=fields["beta"].tolist())
        if "w_th" in fields:
            meta.update(w_th=fields["w_th"].tolist(), w_th_synapses=fields["w_th_synapses"])
    common = {"r": tau_mem / dt, "v_leak": zeros, "v_threshold": fields["theta"], "v_reset": zeros.copy()}
    if not neuron.synaptic:
        return nir.LIF(tau=tau_mem, **common, metadata={META_KEY: json.dumps(meta)})
    tau_syn = _time_constant(fields["decay_syn"], dt)
    meta["decay_syn"] = fields["decay_syn"].tolist()
    return nir.CubaLIF(
        tau_syn=tau_syn, tau_mem=tau_mem, w_in=tau_syn / dt, **common, metadata={META_KEY: json.dumps(meta)}
    )


def _synapse_meta(connection: Connection, n_in: int, n_out: int) -> list[list[int]]:
    """Which synapses `connection` has, [out, in] 0/1 like NIR weights: the import masks the others, so that the
    energy report of the imported network counts the synapses the original's counts (also those of weight 0)."""
    return connection.structure(n_in, n_out).T.astype(int).tolist()


def export_nir(
    spec: NetworkSpec, genome: Any, *, strict: bool = False, adapters: IOAdapters | None = None
) -> nir.NIRGraph:
    """The NIR graph of one individual (`genome` [D] or [1, D]) of `spec` (see the module docstring).

    strict: also reject features that only our metadata represents (`metadata_only_features`: soft reset,
    refractory period, threshold adaptation, the sample-hold input stage).
    adapters: the controller's I/O adapters, written to the graph metadata "io" (`import_io`); they must fit
    `spec` (`artifacts.check_adapters`).
    """
    _check_exportable(spec, strict)
    if adapters is not None:
        check_adapters(adapters, spec)
    net = Network(spec, dtype=torch.float64)
    params = net.params(genome)
    if params.weights.shape[0] != 1:
        raise GenomeError(f"export_nir takes one individual, got a population of {params.weights.shape[0]}")
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type={"input": np.array([spec.n_inputs])})}
    edges: list[tuple[str, str]] = []
    source = "input"
    for index, layer in enumerate(spec.layers):
        w_in = net.layer_weights(params, index, "w_in")[0].numpy().T.copy()  # NIR: [out, in]
        fields = {f: net.neuron_field(params, index, f)[0].numpy().copy() for f in NEURON_FIELDS}
        w_th = net.layer_weights(params, index, "w_th")
        if w_th is not None:
            fields["w_th"] = w_th[0].numpy().T.copy()  # [out, in], as NIR weights
            fields["w_th_synapses"] = _synapse_meta(layer.threshold_input, w_th.shape[1], layer.size)
        w_key, n_key = f"{layer.name}.w_in", f"{layer.name}.neuron"
        meta = {META_KEY: json.dumps({"synapses": _synapse_meta(layer.input, w_in.shape[1], layer.size)})}
        nodes[w_key] = (
            nir.Affine(weight=w_in, bias=fields["bias"], metadata=meta)
            if layer.bias
            else nir.Linear(weight=w_in, metadata=meta)
        )
        nodes[n_key] = _neuron_node(layer.neuron, fields, spec.dt, layer.name)
        edges += [(source, w_key), (w_key, n_key)]
        w_rec = net.layer_weights(params, index, "w_rec")
        if w_rec is not None and layer.recurrent is not None:
            r_key = f"{layer.name}.w_rec"
            meta = {META_KEY: json.dumps({"synapses": _synapse_meta(layer.recurrent, layer.size, layer.size)})}
            nodes[r_key] = nir.Linear(weight=w_rec[0].numpy().T.copy(), metadata=meta)
            edges += [(n_key, r_key), (r_key, n_key)]
        source = n_key
    nodes["output"] = nir.Output(output_type={"output": np.array([spec.layers[-1].size])})
    edges.append((source, "output"))
    metadata = {"dt": float(spec.dt), "name": spec.name, "discretization": DISCRETIZATION}
    if spec.encoder is not None:
        metadata["encoder"] = json.dumps(spec.encoder.to_dict())
    if adapters is not None:
        metadata["io"] = json.dumps(adapters.to_dict(), allow_nan=False)
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata)


# --- import ----------------------------------------------------------------------------------------------------
def _node_meta(node: nir.NIRNode) -> dict[str, Any]:
    raw = (node.metadata or {}).get(META_KEY)
    if raw is None:
        return {}
    try:
        meta = json.loads(raw.decode() if isinstance(raw, bytes) else str(raw))
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _floats(node_key: str, name: str, value: Any) -> np.ndarray:
    """`value` as float64, or a SpecError naming the node and the field (strings, objects, None: missing)."""
    try:
        if value is None or np.asarray(value).dtype.kind not in "biuf":
            raise TypeError
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError(f"NIR node {node_key!r}: {name} is missing or not numeric ({type(value).__name__})") from None


def _per_neuron(node_key: str, name: str, value: Any, n: int) -> np.ndarray:
    values = _floats(node_key, name, value)
    try:
        return np.broadcast_to(values, (n,)).copy()
    except ValueError:
        raise SpecError(f"NIR node {node_key!r}: {name} does not fit {n} neurons") from None


def _decay(node_key: str, name: str, tau: np.ndarray, dt: float, exact: Any) -> np.ndarray:
    """decay = 1 - dt / tau (the exact metadata value where it agrees with tau)."""
    if not np.all(tau > 0):
        raise SpecError(f"NIR node {node_key!r}: {name} must be positive (s), got {tau.min()}")
    decay = np.where(tau >= dt * NO_LEAK_STEPS, 1.0, 1.0 - dt / tau)  # (inf included)
    if np.any(decay < 0):
        raise SpecError(
            f"NIR node {node_key!r}: {name} = {tau.min():g} s is shorter than dt = {dt:g} s; "
            "forward Euler needs tau >= dt (import with a smaller dt)"
        )
    if exact is not None:
        exact_arr = np.asarray(exact, dtype=np.float64)
        if exact_arr.shape == decay.shape and np.allclose(exact_arr, decay, rtol=0.0, atol=1e-9):
            return exact_arr
    return decay


def _ratio(num: np.ndarray, tau: np.ndarray, dt: float) -> np.ndarray:
    """num * dt / tau, the per-step gain of an Euler step; inf / inf reads as the convention num = tau / dt."""
    both = np.isinf(num) & np.isinf(tau)
    with np.errstate(invalid="ignore"):
        return np.where(both, 1.0, num * dt / np.where(both, 1.0, tau))


def _neuron(
    node_key: str, node: nir.NIRNode, n: int, dt: float, graph_dt: float | None = None
) -> tuple[NeuronModel, dict[str, np.ndarray]]:
    """Our neuron model and its per-neuron fields, plus "gain": the per-step input gain to fold into the weights.
    `graph_dt`: the step (s) the graph was exported at, where it says; its metadata-only features (threshold
    adaptation, refractory period) are counted in its steps, so they import only at that step."""
    meta = _node_meta(node)
    common = {name: _per_neuron(node_key, name, getattr(node, name), n) for name in ("r", "v_leak")}
    if np.any(common["v_leak"] != 0):
        raise SpecError(f"NIR node {node_key!r}: v_leak != 0 is not supported")
    if isinstance(node, nir.LI):
        tau = _per_neuron(node_key, "tau", node.tau, n)
        fields = {"decay_mem": _decay(node_key, "tau", tau, dt, meta.get("decay_mem"))}
        return LeakyIntegrator(), {**fields, "gain": _ratio(common["r"], tau, dt)}
    if np.any(_per_neuron(node_key, "v_reset", node.v_reset, n) != 0):
        raise SpecError(f"NIR node {node_key!r}: v_reset != 0 is not supported")
    try:
        model = LIF(
            synaptic=isinstance(node, nir.CubaLIF),
            reset=meta.get("reset", "hard"),
            adaptation=meta.get("adaptation", "none"),
            refractory=meta.get("refractory", 0),  # LIF refuses a non-integer (int() made true one step)
        )
    except (SpecError, TypeError, ValueError) as exc:
        raise SpecError(f"NIR node {node_key!r}: bad {META_KEY} metadata: {exc}") from None
    if graph_dt is not None and not math.isclose(graph_dt, dt, rel_tol=1e-9) and (
            model.adaptation != "none" or model.refractory):
        raise SpecError(f"NIR node {node_key!r}: its threshold adaptation and refractory period are counted in steps "
                        f"of the graph's dt {graph_dt:g} s; import it at that dt, not {dt:g} s (they would not be "
                        "resampled: their times would scale by the ratio)")
    fields = {"theta": _per_neuron(node_key, "v_threshold", node.v_threshold, n)}
    if model.adaptation != "none":
        fields["decay_th"] = _per_neuron(node_key, "decay_th", meta.get("decay_th"), n)
        if model.adaptation == "spike":
            fields["beta"] = _per_neuron(node_key, "beta", meta.get("beta"), n)
        else:
            fields["w_th"] = _floats(node_key, "w_th", meta.get("w_th")).T.copy()  # our [in, out]
    if isinstance(node, nir.CubaLIF):
        tau_mem = _per_neuron(node_key, "tau_mem", node.tau_mem, n)
        tau_syn = _per_neuron(node_key, "tau_syn", node.tau_syn, n)
        fields["decay_syn"] = _decay(node_key, "tau_syn", tau_syn, dt, meta.get("decay_syn"))
        gain = _ratio(_per_neuron(node_key, "w_in", node.w_in, n), tau_syn, dt) * _ratio(common["r"], tau_mem, dt)
    else:
        tau_mem = _per_neuron(node_key, "tau", node.tau, n)
        gain = _ratio(common["r"], tau_mem, dt)
    fields["decay_mem"] = _decay(node_key, "tau_mem", tau_mem, dt, meta.get("decay_mem"))
    return model, {**fields, "gain": gain}


def _weights(node_key: str, node: nir.NIRNode, n_in: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    """([in, out] weights in our convention, bias or None) of an Affine/Linear node."""
    weight = _floats(node_key, "weight", node.weight)
    if weight.ndim != 2 or (n_in is not None and weight.shape[1] != n_in):
        expected = "[out, in]" if n_in is None else f"[out, {n_in}]"
        raise SpecError(f"NIR node {node_key!r}: weight must have shape {expected}, got {list(weight.shape)}")
    bias = None
    if isinstance(node, nir.Affine):
        bias = _per_neuron(node_key, "bias", node.bias, weight.shape[0])
    return weight.T.copy(), bias


def _chain(graph: nir.NIRGraph) -> list[tuple[str, str, str | None]]:
    """Walk input -> (weights -> neuron [<-> recurrent weights])+ -> output: (w_in, neuron, w_rec) per layer."""
    for key, node in graph.nodes.items():
        if not isinstance(node, (nir.Input, nir.Output, *_WEIGHT_TYPES, *_NEURON_TYPES)):
            raise SpecError(
                f"NIR node {key!r} of type {type(node).__name__} is not supported "
                "(supported: Input, Output, Affine, Linear, CubaLIF, LIF, LI)"
            )
    succ: dict[str, list[str]] = {key: [] for key in graph.nodes}
    pred: dict[str, list[str]] = {key: [] for key in graph.nodes}
    for src, dst in graph.edges:
        if src not in graph.nodes or dst not in graph.nodes:
            raise SpecError(f"NIR edge ({src!r}, {dst!r}) names a node the graph does not have")
        succ[src].append(dst)
        pred[dst].append(src)
    inputs = [k for k, node in graph.nodes.items() if isinstance(node, nir.Input)]
    outputs = [k for k, node in graph.nodes.items() if isinstance(node, nir.Output)]
    if len(inputs) != 1 or len(outputs) != 1:
        raise SpecError(f"NIR graph must have one Input and one Output node, got inputs {inputs}, outputs {outputs}")

    def only(key: str, keys: list[str], what: str) -> str:
        if len(keys) != 1:
            raise SpecError(f"NIR node {key!r} must have exactly one {what}, got {keys} (not a layer chain)")
        return keys[0]

    layers: list[tuple[str, str, str | None]] = []
    seen = {inputs[0]}
    current = inputs[0]
    while True:
        w_key = only(current, [k for k in succ[current] if k not in seen], "forward successor")
        if isinstance(graph.nodes[w_key], nir.Output) and layers:
            seen.add(w_key)
            break
        if not isinstance(graph.nodes[w_key], _WEIGHT_TYPES):
            raise SpecError(f"NIR node {w_key!r} ({type(graph.nodes[w_key]).__name__}) must be Affine or Linear here")
        only(w_key, pred[w_key], "predecessor")
        n_key = only(w_key, succ[w_key], "successor")
        if not isinstance(graph.nodes[n_key], _NEURON_TYPES) or n_key in seen:
            raise SpecError(f"NIR node {n_key!r} ({type(graph.nodes[n_key]).__name__}) must be CubaLIF, LIF or LI")
        recurrent = [k for k in succ[n_key] if isinstance(graph.nodes[k], _WEIGHT_TYPES) and succ[k] == [n_key]]
        r_key = recurrent[0] if len(recurrent) == 1 else None
        if len(recurrent) > 1 or sorted(pred[n_key]) != sorted([w_key, *recurrent]):
            raise SpecError(f"NIR node {n_key!r} has inputs {pred[n_key]}; expected {w_key!r} and one recurrent edge")
        if r_key is not None:
            only(r_key, pred[r_key], "predecessor")
        seen.update(k for k in (w_key, n_key, r_key) if k is not None)
        layers.append((w_key, n_key, r_key))
        current = n_key
    unused = sorted(set(graph.nodes) - seen)
    if unused:
        raise SpecError(f"NIR node {unused[0]!r} is not on the input -> output layer chain")
    return layers


def _widened(layer: Layer, n_in: int, values: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """Bounds overrides that contain `values` where a parameter's default bounds do not."""
    bounds = {}
    for decl in layer.declarations(n_in):
        low, high = (float(np.min(decl.bounds[0])), float(np.max(decl.bounds[1])))
        lo, hi = float(values[decl.name].min()), float(values[decl.name].max())
        if lo < low or hi > high:
            bounds[decl.name] = (min(low, lo), max(high, hi))
    return bounds


def _synapses(graph: nir.NIRGraph, node_key: str, weights: np.ndarray, key: str = "synapses") -> Connection:
    """A dense connection over the synapses the node's metadata lists (`key`: [out, in] 0/1), else over the
    nonzero `weights` [in, out] (a zero weight of a foreign graph is no synapse): the others are masked, so that
    the energy report counts no operation for them."""
    listed = _node_meta(graph.nodes[node_key]).get(key)
    if listed is None:
        present = weights != 0
    else:
        present = np.asarray(listed).T
        if present.shape != weights.shape or not np.isin(present, (0, 1)).all():
            raise SpecError(
                f"NIR node {node_key!r}: bad {META_KEY} metadata: its synapses must be 0/1 of shape "
                f"{list(weights.T.shape)} ([out, in])"
            )
        if np.any(weights[present == 0] != 0):
            raise SpecError(f"NIR node {node_key!r}: a nonzero weight where its {META_KEY} metadata lists no synapse")
    return Connection() if present.all() else Connection(mask=present.astype(np.int64))


def import_nir(graph: nir.NIRGraph, *, dt: float | None = None) -> tuple[NetworkSpec, np.ndarray]:
    """Rebuild (spec, genome [D]) from a NIR graph of the chain shape (see the module docstring).

    dt: the step in s; defaults to the graph's metadata "dt" (a SpecError if neither is given).
    """
    graph_dt = None
    if "dt" in (graph.metadata or {}):
        try:
            graph_dt = float(graph.metadata["dt"])
        except (TypeError, ValueError):
            raise SpecError(f"NIR graph metadata 'dt' is not a number: {graph.metadata['dt']!r}") from None
    if dt is None:
        if graph_dt is None:
            raise SpecError("NIR graph has no metadata 'dt'; pass import_nir(graph, dt=...) in s")
        dt = graph_dt
    layers: list[Layer] = []
    values: dict[str, np.ndarray] = {}
    n_in: int | None = None
    n_inputs = 0
    for index, (w_key, n_key, r_key) in enumerate(_chain(graph)):
        w_in, bias = _weights(w_key, graph.nodes[w_key], n_in)
        n_inputs = n_inputs or w_in.shape[0]
        n = w_in.shape[1]
        model, fields = _neuron(n_key, graph.nodes[n_key], n, dt, graph_dt)
        gain = fields.pop("gain")
        gain = np.where(np.abs(gain - 1.0) <= _GAIN_TOL, 1.0, gain)
        params = {"w_in": w_in * gain, **fields}
        if "w_th" in params and params["w_th"].shape != w_in.shape:
            raise SpecError(f"NIR node {n_key!r}: w_th must have shape {list(w_in.T.shape)} ([out, in])")
        w_rec = None
        if r_key is not None:
            w_rec, rec_bias = _weights(r_key, graph.nodes[r_key], n)
            params["w_rec"] = w_rec * gain
            if rec_bias is not None:
                bias = rec_bias if bias is None else bias + rec_bias
        if bias is not None:
            params["bias"] = bias * gain
        bad = sorted(key for key, value in params.items() if not np.all(np.isfinite(value)))
        if bad:
            raise SpecError(f"NIR node {n_key!r}: non-finite {bad} (check its weights, r, w_in, tau, v_threshold)")
        meta_name = _node_meta(graph.nodes[n_key]).get("layer")
        name = next((c for c in (meta_name, n_key) if isinstance(c, str) and _NAME.match(c)), f"layer{index}")
        layer = Layer(
            name,
            n,
            model,
            input=_synapses(graph, w_key, params["w_in"]),
            recurrent=None if r_key is None else _synapses(graph, r_key, params["w_rec"]),
            threshold_input=_synapses(graph, n_key, params["w_th"], "w_th_synapses") if "w_th" in params else None,
            bias=bias is not None,
        )
        bounds = _widened(layer, w_in.shape[0], params)
        if bounds:
            layer = dataclasses.replace(layer, bounds=bounds)
        layers.append(layer)
        values.update({f"{name}.{key}": value for key, value in params.items()})
        n_in = n
    _check_ends(graph, n_inputs, n_in)  # type: ignore[arg-type]
    encoder = _graph_json(graph, "encoder", encoder_from_dict)
    if encoder is not None and not isinstance(encoder, SampleHoldEncoder):
        raise SpecError(f"NIR graph metadata 'encoder': only the sample-hold stage is supported, got {encoder.kind!r}")
    name = str((graph.metadata or {}).get("name", ""))
    spec = NetworkSpec(n_inputs, tuple(layers), dt=dt, encoder=encoder, name=name)
    return spec, spec.parameters.flatten(values)[0]


def _check_ends(graph: nir.NIRGraph, n_inputs: int, n_outputs: int) -> None:
    """SpecError naming the node unless the Input node's size is the first weights' inputs and the Output node's the
    last layer's neurons (a graph whose Input said 5 and Output 7 imported as 2 inputs and 3 outputs)."""
    for key, node in graph.nodes.items():
        if isinstance(node, nir.Input | nir.Output):
            kind = "input" if isinstance(node, nir.Input) else "output"
            types = node.input_type if kind == "input" else node.output_type
            expected = n_inputs if kind == "input" else n_outputs
            for shape in types.values():
                size = int(np.prod(np.asarray(shape, dtype=np.int64)))
                if size != expected:
                    raise SpecError(f"NIR node {key!r} ({type(node).__name__}) has {size} values; the weights give "
                                    f"{expected} {kind}s")


def _graph_json(graph: nir.NIRGraph, key: str, build: Callable[[Any], Any]) -> Any:
    """`build(document)` of the JSON string the graph metadata holds under `key`, None where it has none; one
    SpecError line naming the key where it is not valid JSON or `build` refuses it."""
    raw = (graph.metadata or {}).get(key)
    if raw is None:
        return None
    try:
        return build(json.loads(raw.decode() if isinstance(raw, bytes) else str(raw)))
    except SpecError as exc:
        raise SpecError(f"NIR graph metadata {key!r}: {exc}") from None
    except ValueError as exc:
        raise SpecError(f"NIR graph metadata {key!r} is not valid JSON ({exc})") from None


def import_io(graph: nir.NIRGraph, spec: NetworkSpec) -> IOAdapters:
    """The I/O adapters the graph metadata "io" holds (`export_nir(..., adapters=...)`), checked to fit `spec`
    (the network imported from it); the identity pair, as for an artifact without them, where the graph has none
    (a foreign graph, or one written before they were exported)."""
    adapters = _graph_json(graph, "io", IOAdapters.from_dict) or IOAdapters()
    try:
        check_adapters(adapters, spec)
    except SpecError as exc:
        raise SpecError(f"NIR graph metadata 'io': {exc}") from None
    return adapters


# --- files -----------------------------------------------------------------------------------------------------
def _is_hdf5(path: Path) -> bool:
    """Whether the file `path` holds the HDF5 signature where a superblock may start (0, 512, 1024, ...)."""
    size, offset = path.stat().st_size, 0
    with open(path, "rb") as handle:
        while offset + len(_HDF5_SIGNATURE) <= size:
            handle.seek(offset)
            if handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return True
            offset = max(512, 2 * offset)
    return False


def check_nir_output(path: str | os.PathLike[str]) -> None:
    """One ArtifactError line unless `path` may take a NIR file: a name ending in .nir, .h5 or .hdf5, and no file
    there but an HDF5 one (an earlier export) or an empty one (`mktemp --suffix .nir`), so that a mistyped output
    (an artifact's controller.json, a dataset) is not written over."""
    atomic.check_suffix(path, NIR_SUFFIXES, "a NIR graph is an HDF5 file", ArtifactError)
    target = Path(path).resolve() if Path(path).is_symlink() else Path(path)
    if target.is_file() and target.stat().st_size and not _is_hdf5(target):
        raise ArtifactError(f"{os.fspath(path)} exists and is not an HDF5 file: not replaced (give another path "
                            "or remove it)")


def save_nir(
    path: str | os.PathLike[str],
    spec: NetworkSpec,
    genome: Any,
    *,
    strict: bool = False,
    adapters: IOAdapters | None = None,
) -> Path:
    """Write the NIR graph of one individual (`export_nir`) to an HDF5 file, atomically; the path must pass
    `check_nir_output`."""
    check_nir_output(path)
    buffer = io.BytesIO()
    nir.write(buffer, export_nir(spec, genome, strict=strict, adapters=adapters))
    return atomic.write_bytes(path, buffer.getvalue())


def read_nir(path: str | os.PathLike[str]) -> nir.NIRGraph:
    """The NIR graph of an HDF5 file; an unreadable file raises ArtifactError."""
    try:
        return nir.read(path)
    except (OSError, KeyError, ValueError, AssertionError, TypeError) as exc:
        raise ArtifactError(f"cannot read NIR file {os.fspath(path)!r}: {exc}") from None


def load_nir(path: str | os.PathLike[str], *, dt: float | None = None) -> tuple[NetworkSpec, np.ndarray]:
    """Read a NIR HDF5 file and import it (`import_nir`); an unreadable file raises ArtifactError. Its I/O
    adapters: `import_io(read_nir(path), spec)`."""
    return import_nir(read_nir(path), dt=dt)
