"""Parallel composition: several networks side by side as one network, e.g. a PD-SNN and an I-SNN that read the
same error and whose commands add up (Burgers et al. 2023's fully spiking PD+I controller).

    x -> [net 1 | net 2 | ...] -> (outputs concatenated, or summed by a fixed output layer)

The networks must share the input size, `dt` and encoder (e.g. the same sample hold), have no decoder and as
many layers each; layer l of the composite holds layer l of every network, neurons in network order. Every
connection becomes a tied connection (`Connection.tie`) whose shared weight vector is the concatenation of the
networks' own weight vectors, with the networks' structure, masks, signs and delays kept block by block: the
first layer's blocks sit side by side (all read the input), later layers' blocks on the diagonal, so no
synapse joins two networks and no genome entry is spent on one. The composite therefore computes exactly what
the networks compute apart, and its genome is theirs concatenated parameter by parameter (`parallel_genome`).

Neuron models of a layer must agree, except that LIF adaptation "iwta" and "none" may be mixed: the layer is
"iwta" and the plain LIF blocks get no threshold synapses, so their threshold adaptation stays 0 (their
`decay_th` is one unused genome entry per block). Bounds are kept per element (e.g. an I-SNN readout decay
bounded to [0, 0.3] beside a PD-SNN readout decay in [0, 1]).

With `sum_outputs=True` the composite ends in an output layer of `LeakyIntegrator` units with decay 0 and fixed
unit weights: output j is the sum of every network's output j (no evolved parameter).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from snncontrol.connections import Connection
from snncontrol.errors import GenomeError, SpecError
from snncontrol.layers import Layer
from snncontrol.neurons.models import LIF, LeakyIntegrator, NeuronModel, neuron_to_dict
from snncontrol.spec import NetworkSpec

SUM_LAYER = "output"


@dataclass(frozen=True)
class _Piece:
    """Where a run of composite genome entries comes from: network `net`'s parameter `name` (flattened), or,
    with `name` None, `count` unused entries (a parameter the network's block does not have)."""

    net: int
    name: str | None
    count: int


def _tie_form(conn: Connection, n_in: int, n: int) -> dict[str, np.ndarray]:
    """A connection as tie indices into its own weight vector, coefficients, mask, per-synapse sign, delay."""
    if conn.tie is not None:
        tie = conn.tie.copy()
    elif conn.pattern == "one_to_one":
        tie = np.full((n_in, n), -1, dtype=np.int64)
        tie[np.arange(n), np.arange(n)] = np.arange(n)
    else:
        tie = np.arange(n_in * n, dtype=np.int64).reshape(n_in, n)
    coeff = np.ones((n_in, n)) if conn.tie_coeff is None else conn.tie_coeff.copy()
    mask = np.ones((n_in, n), dtype=np.int64) if conn.mask is None else conn.mask.copy()
    if conn.sign is None:
        sign = np.zeros((n_in, n), dtype=np.int64)
    else:
        sign = conn.sign if conn.sign.ndim == 2 else np.repeat(conn.sign[:, None], n, axis=1)
    delay = np.broadcast_to(np.asarray(conn.delay, dtype=np.int64), (n_in, n))
    return {"tie": tie, "tie_coeff": coeff, "mask": mask, "sign": sign, "delay": delay}


def _merged_neuron(models: Sequence[NeuronModel], where: str) -> NeuronModel:
    first = models[0]
    if all(neuron_to_dict(m) == neuron_to_dict(first) for m in models):
        return first
    lifs = [m for m in models if isinstance(m, LIF)]
    if len(lifs) == len(models):
        adaptations = {m.adaptation for m in lifs}
        same = {(m.synaptic, m.reset, m.refractory) for m in lifs}
        if len(same) == 1 and adaptations == {"none", "iwta"}:
            return LIF(synaptic=first.synaptic, reset=first.reset, adaptation="iwta", refractory=first.refractory)
    raise SpecError(f"{where}: neuron models {[neuron_to_dict(m) for m in models]} cannot share a layer")


@dataclass(frozen=True)
class _Part:
    """One network's share of a composite parameter: its piece, flat bounds, fixed and initial values."""

    piece: _Piece
    low: np.ndarray
    high: np.ndarray
    fixed: np.ndarray | None
    init: np.ndarray | None


class _Composer:
    """Builds the composite layers and, beside them, the genome map of every composite parameter."""

    def __init__(self, specs: Sequence[NetworkSpec]) -> None:
        self.specs = list(specs)
        self.pieces: dict[str, list[_Piece]] = {}

    def layer(self, index: int) -> Layer:
        layers = [spec.layers[index] for spec in self.specs]
        inputs = [spec.layer_input_sizes()[index] for spec in self.specs]
        sizes = [layer.size for layer in layers]
        names = {layer.name for layer in layers}
        name = layers[0].name if len(names) == 1 else "_".join(layer.name for layer in layers)
        where = f"parallel layer {index} ({name})"
        if len({layer.bias for layer in layers}) != 1:
            raise SpecError(f"{where}: every network's layer must have a bias, or none")
        neuron = _merged_neuron([layer.neuron for layer in layers], where)
        shared_input = index == 0
        kwargs: dict[str, Any] = {"bias": layers[0].bias}
        bounds: dict[str, tuple[Any, Any]] = {}
        fixed: dict[str, Any] = {}
        init: dict[str, Any] = {}
        for param, attr in (("w_in", "input"), ("w_rec", "recurrent"), ("w_th", "threshold_input")):
            conns = [getattr(layer, attr) for layer in layers]
            if all(c is None for c in conns):
                continue
            rows = sizes if param == "w_rec" else inputs
            conn, lengths = self._connection(name, conns, rows, sizes, shared_input and param != "w_rec")
            kwargs[attr] = conn
            self._values(name, param, layers, rows, lengths, bounds, fixed, init)
        per_neuron = (["bias"] if kwargs["bias"] else []) + list(neuron.parameters())
        groups = {param: self._neuron_param(name, param, layers, inputs, bounds, fixed, init) for param in per_neuron}
        shared = {k: v for k, v in groups.items() if not np.array_equal(v, np.arange(len(v)))}  # (a permutation too)
        return Layer(name, sum(sizes), neuron, shared=shared, bounds=bounds, fixed=fixed, init=init, **kwargs)

    @staticmethod
    def _connection(
        name: str, conns: Sequence[Connection | None], rows: Sequence[int], sizes: Sequence[int], shared_input: bool
    ) -> tuple[Connection, list[int]]:
        """The composite tied connection and the length of each network's weight vector (0: no block)."""
        n_rows = rows[0] if shared_input else sum(rows)
        if shared_input and len(set(rows)) != 1:
            raise SpecError(f"parallel layer {name}: the networks read inputs of different sizes {list(rows)}")
        blocks = {key: np.zeros((n_rows, sum(sizes)), dtype=dtype) for key, dtype in
                  (("tie", np.int64), ("tie_coeff", np.float64), ("mask", np.int64), ("sign", np.int64),
                   ("delay", np.int64))}
        blocks["tie"][:] = -1
        lengths, offset, row0, col0 = [], 0, 0, 0
        for conn, n_in, n in zip(conns, rows, sizes, strict=True):
            rows_here = slice(0, n_in) if shared_input else slice(row0, row0 + n_in)
            cols_here = slice(col0, col0 + n)
            if conn is not None:
                form = _tie_form(conn, n_in, n)
                length = int(np.prod(conn.weight_shape(n_in, n)))
                form["tie"] = np.where(form["tie"] >= 0, form["tie"] + offset, -1)
                for key, value in form.items():
                    blocks[key][rows_here, cols_here] = value
                offset += length
                lengths.append(length)
            else:
                lengths.append(0)
            row0, col0 = row0 + n_in, col0 + n
        delay = blocks.pop("delay")
        sign = blocks.pop("sign")
        conn = Connection(
            tie=blocks["tie"],
            tie_coeff=blocks["tie_coeff"],
            mask=None if blocks["mask"][blocks["tie"] >= 0].all() else blocks["mask"],
            sign=sign if sign.any() else None,
            delay=int(delay.max()) if (delay == delay.flat[0]).all() else delay,
        )
        return conn, lengths

    def _values(
        self, name: str, param: str, layers: Sequence[Layer], rows: Sequence[int], lengths: Sequence[int],
        bounds: dict[str, tuple[Any, Any]], fixed: dict[str, Any], init: dict[str, Any],
    ) -> None:
        """Bounds, fixed values, init and genome pieces of a composite weight vector."""
        parts = [
            self._part(net, layer, n_in, param) for net, (layer, n_in, length) in
            enumerate(zip(layers, rows, lengths, strict=True)) if length
        ]
        self._finish(name, param, parts, bounds, fixed, init)

    def _neuron_param(
        self, name: str, param: str, layers: Sequence[Layer], inputs: Sequence[int],
        bounds: dict[str, tuple[Any, Any]], fixed: dict[str, Any], init: dict[str, Any],
    ) -> np.ndarray:
        """Group index of every composite neuron for per-neuron `param`; records its bounds and pieces."""
        groups, parts, count = [], [], 0
        for net, (layer, n_in) in enumerate(zip(layers, inputs, strict=True)):
            part = self._part(net, layer, n_in, param)
            own = layer.group_index(param)
            groups.append((np.zeros(layer.size, np.int64) if part.piece.name is None
                           else np.arange(layer.size) if own is None else own) + count)
            count += part.piece.count
            parts.append(part)
        self._finish(name, param, parts, bounds, fixed, init)
        return np.concatenate(groups)

    @staticmethod
    def _part(net: int, layer: Layer, n_in: int, param: str) -> _Part:
        """Network `net`'s share of composite parameter `param` (flattened); an unused entry where its layer
        has no such parameter (decay_th of a plain LIF block beside an IWTA one)."""
        decl = next((d for d in layer.declarations(n_in) if d.name == param), None)
        if decl is None:
            return _Part(_Piece(net, None, 1), np.zeros(1), np.ones(1), None, None)
        size = int(np.prod(decl.shape))
        low, high = (np.broadcast_to(b, decl.shape).ravel() for b in decl.bounds)

        def given(mapping: dict[str, Any]) -> np.ndarray | None:
            value = mapping.get(param)
            return None if value is None else np.broadcast_to(np.asarray(value, np.float64), decl.shape).ravel()

        return _Part(_Piece(net, f"{layer.name}.{param}", size), low, high, given(layer.fixed), given(layer.init))

    def _finish(
        self, name: str, param: str, parts: list[_Part],
        bounds: dict[str, tuple[Any, Any]], fixed: dict[str, Any], init: dict[str, Any],
    ) -> None:
        """A parameter fixed in every network stays fixed (unused entries 0); one evolved anywhere is evolved
        everywhere (a parameter fixed in some networks only cannot be composed)."""
        used = [part for part in parts if part.piece.name is not None]
        is_fixed = {part.fixed is not None for part in used}
        if is_fixed == {True, False}:
            raise SpecError(f"parallel layer {name}: {param} is fixed in some networks only")
        if is_fixed == {True}:
            fixed[param] = np.concatenate([np.zeros(1) if p.fixed is None else p.fixed for p in parts])
            return
        bounds[param] = (np.concatenate([p.low for p in parts]), np.concatenate([p.high for p in parts]))
        if any(p.init is not None for p in parts):
            init[param] = np.concatenate([0.5 * (p.low + p.high) if p.init is None else p.init for p in parts])
        self.pieces[f"{name}.{param}"] = [p.piece for p in parts]


def _sum_layer(n_each: int, count: int, taken: set[str]) -> Layer:
    """m LeakyIntegrator units with decay 0: output j = sum over networks of their output j (fixed weights). Named
    SUM_LAYER, or SUM_LAYER_2, _3 .. where a layer of the composed networks has that name (composites composed)."""
    tie = np.full((n_each * count, n_each), -1, dtype=np.int64)
    tie[np.arange(n_each * count), np.tile(np.arange(n_each), count)] = 0
    name = next(n for n in (SUM_LAYER, *(f"{SUM_LAYER}_{k}" for k in range(2, len(taken) + 3))) if n not in taken)
    return Layer(name, n_each, LeakyIntegrator(), input=Connection(tie=tie),
                 fixed={"w_in": 1.0, "decay_mem": 0.0})


def parallel(specs: Sequence[NetworkSpec], name: str = "", sum_outputs: bool = True) -> NetworkSpec:
    """The networks of `specs` side by side as one network (see the module docstring)."""
    spec, _ = _compose(specs, name, sum_outputs)
    return spec


def _compose(specs: Sequence[NetworkSpec], name: str, sum_outputs: bool) -> tuple[NetworkSpec, _Composer]:
    if len(specs) < 2:
        raise SpecError("parallel composition needs at least two networks")
    first = specs[0]
    for spec in specs[1:]:
        if spec.n_inputs != first.n_inputs or spec.dt != first.dt:
            raise SpecError("parallel networks must have the same n_inputs and dt")
        if len(spec.layers) != len(first.layers):
            raise SpecError("parallel networks must have the same number of layers")
        if (spec.encoder is None) != (first.encoder is None) or (
            spec.encoder is not None and spec.encoder.to_dict() != first.encoder.to_dict()  # type: ignore[union-attr]
        ):
            raise SpecError("parallel networks must have the same encoder")
    if any(spec.decoder is not None for spec in specs):
        raise SpecError("parallel networks must not have decoders (compose their outputs with sum_outputs)")
    composer = _Composer(specs)
    layers = [composer.layer(index) for index in range(len(first.layers))]
    if sum_outputs:
        outputs = {spec.n_outputs for spec in specs}
        if len(outputs) != 1:
            raise SpecError(f"summed outputs need the same number of outputs in every network, got {outputs}")
        layers.append(_sum_layer(outputs.pop(), len(specs), {layer.name for layer in layers}))
    spec = NetworkSpec(first.n_inputs, tuple(layers), first.dt, first.encoder,
                       name=name or "+".join(s.name or "net" for s in specs))
    return spec, composer


def parallel_genome(specs: Sequence[NetworkSpec], genomes: Sequence[Any], sum_outputs: bool = True) -> np.ndarray:
    """The genome [D] of `parallel(specs, ...)` that makes it compute what the networks with `genomes` compute.
    Unused entries (see the module docstring) are 0."""
    if len(genomes) != len(specs):
        raise GenomeError(f"parallel_genome needs one genome per network, got {len(genomes)} for {len(specs)}")
    spec, composer = _compose(specs, "", sum_outputs)
    values = []
    for sub, genome in zip(specs, genomes, strict=True):
        checked = sub.parameters.check(genome)[0]
        values.append({e.name: checked[e.slice] for e in sub.parameters.entries})
    combined = {
        key: np.concatenate(
            [np.zeros(p.count) if p.name is None else values[p.net][p.name] for p in pieces]
        )
        for key, pieces in composer.pieces.items()
    }
    return spec.parameters.flatten({key: value.reshape(spec.parameters.by_name[key].shape)
                                    for key, value in combined.items()})[0]


def _piece_ranges(composer: _Composer) -> Iterator[tuple[str, _Piece, int]]:
    """(composite parameter, piece, its first element in that parameter) for every piece, in genome order."""
    for key, pieces in composer.pieces.items():
        start = 0
        for piece in pieces:
            yield key, piece, start
            start += piece.count


def split_genome(specs: Sequence[NetworkSpec], genome: Any, sum_outputs: bool = True) -> list[np.ndarray]:
    """The inverse of `parallel_genome`: each network's genome [D_k] from the composite's genome [D], e.g. to
    take one network of a composite that was evolved as a whole."""
    spec, composer = _compose(specs, "", sum_outputs)
    checked = spec.parameters.check(genome)[0]
    values: list[dict[str, np.ndarray]] = [{} for _ in specs]
    for key, piece, start in _piece_ranges(composer):
        if piece.name is not None:
            values[piece.net][piece.name] = checked[spec.parameters.by_name[key].slice][start : start + piece.count]
    return [
        sub.parameters.flatten({e.name: values[k][e.name].reshape(e.shape) for e in sub.parameters.entries})[0]
        for k, sub in enumerate(specs)
    ]


def part_patterns(specs: Sequence[NetworkSpec], index: int, sum_outputs: bool = True) -> list[str]:
    """`network.evolve` patterns (`name[start:stop]`) that select network `index`'s parameters in the composite
    `parallel(specs)`, e.g. to fine-tune one network while the others keep their values."""
    _, composer = _compose(specs, "", sum_outputs)
    return [f"{key}[{start}:{start + piece.count}]" for key, piece, start in _piece_ranges(composer)
            if piece.net == index and piece.name is not None]
