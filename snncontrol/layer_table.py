"""The packed layout of a network's layer stack: where each layer lives in the packed arrays, and the integer
layer table that the compiled loop (`snncontrol.compiled`) interprets.

`build(spec)` is the one place that layout is computed; `snncontrol.network.Network` keeps the result
(`network.layout`, `network.table`) and hands the table, with parameter and state arrays, to the compiled loop.
Everything here is counts and offsets (neurons, weights, synapses); no units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from snncontrol.layers import Layer
from snncontrol.neurons.models import LIF, NeuronModel
from snncontrol.spec import NetworkSpec

#: Columns of `LayerTable.rows`, in this order: the neuron kind code (`snncontrol.neurons.models.KIND_*`), the
#: layer's input and neuron counts, its first neuron in the packed neuron arrays, the start of its input,
#: recurrent and threshold-input weight blocks in the packed weights (-1: none), hard reset (0/1), refractory
#: steps, whether its source spikes, its first row in `fan_in`, whether it spikes, and whether it is a plain LIF
#: (soft reset, no refractory period, no threshold adaptation: the loop's fast specialization).
COLUMNS: tuple[str, ...] = (
    "kind", "n_in", "n", "neuron_offset", "w_in", "w_rec", "w_th", "hard_reset", "refractory", "source_spiking",
    "fan_offset", "spiking", "plain",
)  # fmt: skip
KIND, N_IN, N, NOFF, W_IN, W_REC, W_TH, HARD, REFRACTORY, SRC_SPIKING, FAN, SPIKING, PLAIN = range(len(COLUMNS))


@dataclass(frozen=True)
class LayerLayout:
    """Where a layer lives in the packed arrays."""

    n_in: int
    n: int
    neuron_offset: int
    w_in: int
    w_rec: int  # -1: none
    w_th: int  # -1: none
    fan_offset: int
    source_spiking: bool
    max_delay: int


class LayerTable(NamedTuple):
    """The layer stack as the compiled loop reads it: int64 rows [L, len(COLUMNS)] and the synapse counts that
    turn spikes into synaptic operations, per input row of every layer (`fan_in`, [sum of layer input sizes],
    rows of layer l from its FAN column) and per neuron over its recurrent synapses (`fan_rec`, [N])."""

    rows: np.ndarray
    fan_in: np.ndarray
    fan_rec: np.ndarray


class Packing(NamedTuple):
    """A spec's packed layout: one `LayerLayout` per layer, the layer table, and the packed array sizes."""

    layout: list[LayerLayout]
    table: LayerTable
    n_neurons: int
    n_weights: int


def is_plain_lif(neuron: NeuronModel) -> bool:
    """Soft reset, no refractory period, no threshold adaptation: the fast specialization applies."""
    return isinstance(neuron, LIF) and neuron.reset == "soft" and neuron.refractory == 0 and neuron.adaptation == "none"


def build(spec: NetworkSpec) -> Packing:
    """Lay out `spec`'s layers in the packed neuron and weight arrays (in layer order; each layer's input, then
    recurrent, then threshold-input weights, rows x neurons) and describe them in a `LayerTable`."""
    layout: list[LayerLayout] = []
    fan_in: list[np.ndarray] = []
    fan_rec: list[np.ndarray] = []
    n_off = w_off = fan_off = 0
    spiking = spec.encoder.spiking if spec.encoder is not None else False
    for layer, n_in in zip(spec.layers, spec.layer_input_sizes(), strict=True):
        n = layer.size
        offsets = []
        for conn, rows in ((layer.input, n_in), (layer.recurrent, n), (layer.threshold_input, n_in)):
            offsets.append(-1 if conn is None else w_off)
            w_off += 0 if conn is None else rows * n
        fan = layer.input.structure(n_in, n).sum(1)
        if layer.threshold_input is not None:
            fan = fan + layer.threshold_input.structure(n_in, n).sum(1)
        fan_in.append(fan)
        rec = layer.recurrent.structure(n, n).sum(1) if layer.recurrent is not None else np.zeros(n, np.int64)
        fan_rec.append(rec)
        layout.append(
            LayerLayout(n_in, n, n_off, offsets[0], offsets[1], offsets[2], fan_off, spiking, layer.input.max_delay)
        )
        n_off += n
        fan_off += n_in
        spiking = layer.neuron.spiking
    rows = [_row(layer, lay) for layer, lay in zip(spec.layers, layout, strict=True)]
    table = LayerTable(
        np.asarray(rows, dtype=np.int64),
        np.concatenate(fan_in).astype(np.int64),
        np.concatenate(fan_rec).astype(np.int64),
    )
    return Packing(layout, table, n_off, w_off)


def _row(layer: Layer, lay: LayerLayout) -> list[int]:
    """One layer's row of the table, in the order of COLUMNS."""
    neuron = layer.neuron
    values = {
        "kind": neuron.code, "n_in": lay.n_in, "n": lay.n, "neuron_offset": lay.neuron_offset, "w_in": lay.w_in,
        "w_rec": lay.w_rec, "w_th": lay.w_th, "hard_reset": int(neuron.hard_reset), "refractory": neuron.refractory,
        "source_spiking": int(lay.source_spiking), "fan_offset": lay.fan_offset, "spiking": int(neuron.spiking),
        "plain": int(is_plain_lif(neuron)),
    }  # fmt: skip
    return [values[column] for column in COLUMNS]
