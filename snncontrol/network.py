"""Network execution: pure, population-batched steps `out, state = net.step(params, x, state)`.

Every tensor has a leading population dimension P (P individuals of an evolutionary population, or P = 1 in a
ROS callback). Parameters are materialized once from a genome into packed effective weights and per-neuron
fields (`Params`); the state is explicit (`NetworkState`). Data flows one way inside a step:
x -> encoder -> layer 1 -> ... -> layer L -> decoder -> out.

Two executors share the neuron equations of `snncontrol.neurons.equations`:
- the reference step (torch, here), the specification every fast path is tested against;
- the compiled time loop (`snncontrol.compiled`, numba), used by `rollout` and `step` when the network has no
  synaptic delays; `backend="reference"` forces the reference path. It reads the layer stack from
  `network.table` (a `snncontrol.layer_table.LayerTable`, built with `network.layout` by `layer_table.build`).
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np
import torch

from snncontrol import compiled, layer_table
from snncontrol.layer_table import LayerLayout
from snncontrol.neurons import equations
from snncontrol.neurons.models import KIND_GRADED, KIND_LI, NEURON_FIELDS
from snncontrol.params import ParameterSpec
from snncontrol.spec import NetworkSpec

Backend = Literal["auto", "compiled", "reference"]
_FIELD = {name: k for k, name in enumerate(NEURON_FIELDS)}


class Params(NamedTuple):
    """Materialized parameters of a population: packed effective weights [P, W] and neuron fields [P, F, N]."""

    weights: torch.Tensor
    neurons: torch.Tensor


class NetworkState(NamedTuple):
    """Explicit state of a population. Neuron state fields are packed over all layers, [P, N]."""

    encoder: tuple[torch.Tensor, ...]
    i: torch.Tensor  # synaptic current
    v: torch.Tensor  # membrane (LIF, LI)
    a: torch.Tensor  # threshold adaptation
    r: torch.Tensor  # refractory steps left
    out: torch.Tensor  # each neuron's latest output (spike 0/1, LI membrane, graded activation)
    delay: tuple[torch.Tensor | None, ...]  # per layer: past inputs [P, max_delay, n_in] (t-1 first)
    decoder: tuple[torch.Tensor, ...]
    spikes: torch.Tensor  # [P, L] cumulative spike count per layer (float64)
    sops: torch.Tensor  # [P] cumulative synaptic operations, spikes x fan-out (float64)
    steps: torch.Tensor  # [] steps taken since init


Template = tuple[tuple[tuple[int, ...], torch.dtype, bool, float | None], ...]


def _template(one: tuple[torch.Tensor, ...], two: tuple[torch.Tensor, ...]) -> Template:
    """The encoder's or decoder's state as `check_state` compares it, from `init_state` at batches 1 and 2: per
    tensor its shape past the batch (the whole shape if it has no batch dimension), dtype, whether it is batched,
    and the value of a floating-point scalar (a constant: the rate scales)."""
    return tuple(
        (
            tuple(a.shape[1:]) if a.shape != b.shape else tuple(a.shape),
            a.dtype,
            a.shape != b.shape,
            float(a) if a.ndim == 0 and a.is_floating_point() else None,
        )
        for a, b in zip(one, two, strict=True)
    )


class Trace(NamedTuple):
    """A recorded run: decoded outputs [T, P, n_out] and every layer's output [T, P, n] by layer name."""

    outputs: torch.Tensor
    layers: dict[str, torch.Tensor]
    state: NetworkState


class Network:
    """Executes a `NetworkSpec` for a population. Construct once; it holds no per-run state."""

    def __init__(self, spec: NetworkSpec, dtype: torch.dtype = torch.float32) -> None:
        self.spec = spec
        self.dtype = dtype
        packing = layer_table.build(spec)
        self.layout: list[LayerLayout] = packing.layout
        self.table = packing.table  # the layer stack as the compiled loop reads it
        self.n_neurons, self.n_weights = packing.n_neurons, packing.n_weights
        self.fan_in, self.fan_rec = self.table.fan_in, self.table.fan_rec  # synapses per input row / per neuron
        self._fan_in_t = torch.as_tensor(self.fan_in, dtype=torch.float64)  # for the reference step's SOP count
        self._fan_rec_t = torch.as_tensor(self.fan_rec, dtype=torch.float64)
        self.has_delays = any(lay.max_delay > 0 for lay in self.layout)
        one, two = self.init_state(1), self.init_state(2)
        self._codec_template = {  # what `check_state` compares the encoder's and decoder's state with
            name: _template(getattr(one, name), getattr(two, name)) for name in ("encoder", "decoder")
        }

    # --- parameters ----------------------------------------------------------------------------------------
    @property
    def parameters(self) -> ParameterSpec:
        """The genome layout (the spec's parameter spec)."""
        return self.spec.parameters

    def params(self, genome: Any, *, check_bounds: bool = True) -> Params:
        """Materialize genomes ([P, D] or [D]) into effective packed parameters (bounds checked by default)."""
        arr = self.spec.parameters.check(genome, bounds=check_bounds)
        batch = arr.shape[0]
        values = self.spec.parameters.unflatten(torch.as_tensor(arr, dtype=self.dtype))
        weights = torch.zeros(batch, self.n_weights, dtype=self.dtype)
        neurons = torch.zeros(batch, len(NEURON_FIELDS), self.n_neurons, dtype=self.dtype)
        for layer, lay in zip(self.spec.layers, self.layout, strict=True):

            def raw(name: str, shape: tuple[int, ...], layer=layer) -> torch.Tensor:
                key = f"{layer.name}.{name}"
                if key in values:
                    return values[key]
                return torch.as_tensor(np.asarray(layer.fixed[name], np.float64), dtype=self.dtype).expand(
                    batch, *shape
                )

            decls = {d.name: d for d in layer.declarations(lay.n_in)}
            for name, conn, rows, offset in (
                ("w_in", layer.input, lay.n_in, lay.w_in),
                ("w_rec", layer.recurrent, lay.n, lay.w_rec),
                ("w_th", layer.threshold_input, lay.n_in, lay.w_th),
            ):
                if conn is not None:
                    effective = conn.effective(raw(name, decls[name].shape), rows, lay.n)
                    weights[:, offset : offset + rows * lay.n] = effective.reshape(batch, -1)
            cols = slice(lay.neuron_offset, lay.neuron_offset + lay.n)
            for name in NEURON_FIELDS:
                if name in decls or name in layer.fixed:
                    shape = decls[name].shape if name in decls else (lay.n,)
                    value = raw(name, shape)
                    groups = layer.group_index(name)
                    neurons[:, _FIELD[name], cols] = value if groups is None else value[:, torch.as_tensor(groups)]
        return Params(weights, neurons)

    def layer_weights(self, params: Params, layer: int, which: str = "w_in") -> torch.Tensor | None:
        """Effective weights of one layer's connection as [P, n_rows, n] (a view), or None if absent."""
        lay = self.layout[layer]
        offset = {"w_in": lay.w_in, "w_rec": lay.w_rec, "w_th": lay.w_th}[which]
        if offset < 0:
            return None
        rows = lay.n if which == "w_rec" else lay.n_in
        return params.weights[:, offset : offset + rows * lay.n].view(-1, rows, lay.n)

    def neuron_field(self, params: Params, layer: int, name: str) -> torch.Tensor:
        lay = self.layout[layer]
        return params.neurons[:, _FIELD[name], lay.neuron_offset : lay.neuron_offset + lay.n]

    # --- state ---------------------------------------------------------------------------------------------
    def init_state(self, batch: int) -> NetworkState:
        """The resting state of `batch` individuals: zero currents, membranes, adaptation and outputs."""
        zeros = torch.zeros(batch, self.n_neurons, dtype=self.dtype)
        spec = self.spec
        encoder = () if spec.encoder is None else spec.encoder.init_state(batch, spec.n_inputs, spec.dt, self.dtype)
        decoder = (
            () if spec.decoder is None else spec.decoder.init_state(batch, spec.layers[-1].size, spec.dt, self.dtype)
        )
        delay = tuple(
            torch.zeros(batch, lay.max_delay, lay.n_in, dtype=self.dtype) if lay.max_delay else None
            for lay in self.layout
        )
        return NetworkState(
            encoder,
            zeros,
            zeros.clone(),
            zeros.clone(),
            zeros.clone(),
            zeros.clone(),
            delay,
            decoder,
            # Counters are float64 whatever the network dtype: exact up to 2^53 events.
            torch.zeros(batch, len(self.layout), dtype=torch.float64),
            torch.zeros(batch, dtype=torch.float64),
            torch.zeros((), dtype=torch.int64),
        )

    # --- execution -----------------------------------------------------------------------------------------
    def _use_compiled(self, backend: Backend) -> bool:
        if backend == "compiled" and self.has_delays:
            raise ValueError("the compiled backend does not support synaptic delays; use backend='reference'")
        return backend == "compiled" or (backend == "auto" and not self.has_delays)

    def step(
        self, params: Params, x: Any, state: NetworkState, backend: Backend = "auto"
    ) -> tuple[torch.Tensor, NetworkState]:
        """One step of dt for the whole population: x [P, n_inputs] -> out [P, n_outputs]."""
        outs, state = self.rollout(params, torch.as_tensor(x, dtype=self.dtype).unsqueeze(0), state, backend)
        return outs[0], state

    def rollout(
        self, params: Params, xs: Any, state: NetworkState, backend: Backend = "auto"
    ) -> tuple[torch.Tensor, NetworkState]:
        """A whole time series: xs [T, P, n_inputs] -> outs [T, P, n_outputs] (same as T calls of `step`)."""
        xs = torch.as_tensor(xs, dtype=self.dtype)
        self.check_state(state)
        self.check_params(params, state.v.shape[0])
        encoded, enc_state = self._encode(xs, state)
        if self._use_compiled(backend):
            core_out, state = compiled.run_core(self.table, params.weights, params.neurons, encoded, state)
        else:
            outs = []
            for x in encoded:
                state = self._core_step(params, x, state)
                outs.append(self._last_output(state))
            core_out = torch.stack(outs)
        return self._decode(core_out, state._replace(encoder=enc_state))

    def trace(self, params: Params, xs: Any, state: NetworkState) -> Trace:
        """Run the reference path and record every layer's output (for rasters and analysis)."""
        xs = torch.as_tensor(xs, dtype=self.dtype)
        self.check_state(state)
        encoded, enc_state = self._encode(xs, state)
        per_step = []
        for x in encoded:
            state = self._core_step(params, x, state)
            per_step.append(state.out)
        record = torch.stack(per_step)
        outputs, state = self._decode(record[..., self.layout[-1].neuron_offset :], state._replace(encoder=enc_state))
        layers = {
            layer.name: record[..., lay.neuron_offset : lay.neuron_offset + lay.n]
            for layer, lay in zip(self.spec.layers, self.layout, strict=True)
        }
        return Trace(outputs, layers, state)

    def check_params(self, params: Params, batch: int) -> None:
        """Raise ValueError unless `params` come from this network's `params()` for a population of `batch` (the
        compiled loop does not bounds-check its reads)."""
        expected = (batch, self.n_weights), (batch, len(NEURON_FIELDS), self.n_neurons)
        if (tuple(params.weights.shape), tuple(params.neurons.shape)) != expected:
            raise ValueError(
                f"params do not fit this network and a population of {batch}: weights {tuple(params.weights.shape)}"
                f" and neurons {tuple(params.neurons.shape)}, expected {expected[0]} and {expected[1]}"
            )
        if params.weights.dtype != self.dtype or params.neurons.dtype != self.dtype:
            raise ValueError(f"params must be {self.dtype}, got {params.weights.dtype}")

    def check_state(self, state: NetworkState) -> None:
        """Raise ValueError unless the neuron fields, counters and delay buffers of `state` have this network's shapes
        and types (from its `init_state` or a step of it): another network's state made the compiled loop, which
        does not bounds-check, write outside its arrays (a heap corruption, the process killed)."""
        batch = state.v.shape[0] if state.v.ndim == 2 else -1
        neurons, dtype = (batch, self.n_neurons), self.dtype
        if (  # the check of every step, before its message is made
            batch >= 1
            and all(f.shape == neurons and f.dtype == dtype for f in (state.i, state.v, state.a, state.r, state.out))
            and state.spikes.shape == (batch, len(self.layout)) and state.sops.shape == (batch,)
            and state.spikes.dtype == state.sops.dtype == torch.float64
            and not self.has_delays and all(buffer is None for buffer in state.delay)
            and len(state.delay) == len(self.layout)
            and self._codec_mismatch(state, batch) is None
        ):
            return
        fields = {"i": state.i, "v": state.v, "a": state.a, "r": state.r, "out": state.out}
        expected = {name: ((batch, self.n_neurons), self.dtype) for name in fields}
        expected |= {"spikes": ((batch, len(self.layout)), torch.float64), "sops": ((batch,), torch.float64)}
        given = {name: (tuple(value.shape), value.dtype) for name, value in fields.items()}
        given |= {"spikes": (tuple(state.spikes.shape), state.spikes.dtype),
                  "sops": (tuple(state.sops.shape), state.sops.dtype)}
        if len(state.delay) != len(self.layout):
            raise ValueError(f"the state has delay buffers for {len(state.delay)} layers; this network has "
                             f"{len(self.layout)}: a state of another network (give this one's init_state)")
        for k, (lay, buffer) in enumerate(zip(self.layout, state.delay, strict=True)):
            want = ((batch, lay.max_delay, lay.n_in), self.dtype) if lay.max_delay else None
            expected[f"delay[{k}]"] = want  # type: ignore[assignment]
            given[f"delay[{k}]"] = None if buffer is None else (tuple(buffer.shape), buffer.dtype)  # type: ignore[assignment]
        wrong = [name for name in expected if given[name] != expected[name]]
        if batch >= 1 and not wrong and (codec := self._codec_mismatch(state, batch)) is not None:
            wrong, (name, given[name], expected[name]) = [codec[0]], codec  # type: ignore[assignment]
        if batch < 1 or wrong:
            name = wrong[0] if wrong else "v"
            raise ValueError(f"the state does not fit this network ({self.n_neurons} neurons, {self.dtype}): its "
                             f"{name} is {given[name]}, expected {expected[name]} (a state of another network, or "
                             "of another float type: give this one's init_state)")

    def _codec_mismatch(self, state: NetworkState, batch: int) -> tuple[str, Any, Any] | None:
        """(part, given, expected) for the first part of the encoder's or decoder's state that differs from this
        network's `init_state(batch)` in kind, shape or type, or, for a constant (a rate scale, 1 / (window x dt)),
        in value; None if all fit. (A decoder window of 5 in a network of 10 gave 15 rates for 20 inputs; a dt of
        0.01 s in a network of 0.02 s, 40 Hz for 20.)"""
        for name, template in self._codec_template.items():
            parts = getattr(state, name)
            if not isinstance(parts, tuple) or len(parts) != len(template):
                size = len(parts) if isinstance(parts, tuple) else type(parts).__name__
                return name, f"{size} tensors", f"{len(template)} tensors"
            for k, (part, (rest, dtype, batched, value)) in enumerate(zip(parts, template, strict=True)):
                shape = (batch, *rest) if batched else rest
                if not isinstance(part, torch.Tensor) or tuple(part.shape) != shape or part.dtype != dtype:
                    given = (tuple(part.shape), part.dtype) if isinstance(part, torch.Tensor) else type(part).__name__
                    return f"{name}[{k}]", given, (shape, dtype)
                if value is not None and float(part) != value:
                    return f"{name}[{k}]", f"the constant {float(part):g}", f"{value:g}"
        return None

    def _encode(self, xs: torch.Tensor, state: NetworkState) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        if xs.ndim != 3 or xs.shape[2] != self.spec.n_inputs or xs.shape[1] != state.v.shape[0] or not len(xs):
            expected = f"[T >= 1, P={state.v.shape[0]}, n_inputs={self.spec.n_inputs}]"
            raise ValueError(f"inputs must have shape {expected}, got {tuple(xs.shape)}")
        if self.spec.encoder is None:
            return xs, state.encoder
        return self.spec.encoder.rollout(xs, state.encoder)

    def _decode(self, core_out: torch.Tensor, state: NetworkState) -> tuple[torch.Tensor, NetworkState]:
        if self.spec.decoder is None:
            return core_out, state
        outs, dec_state = self.spec.decoder.rollout(core_out, state.decoder)
        return outs, state._replace(decoder=dec_state)

    def _last_output(self, state: NetworkState) -> torch.Tensor:
        return state.out[:, self.layout[-1].neuron_offset :]

    def _core_step(self, params: Params, src: torch.Tensor, state: NetworkState) -> NetworkState:
        """Reference step of the layer stack (the specification of the compiled loop)."""
        fields = {"i": [], "v": [], "a": [], "r": [], "out": []}
        delays: list[torch.Tensor | None] = []
        spikes, sops = [], state.sops
        for index, (layer, lay) in enumerate(zip(self.spec.layers, self.layout, strict=True)):
            cols = slice(lay.neuron_offset, lay.neuron_offset + lay.n)
            nfield = params.neurons[:, :, cols]
            w_in = self.layer_weights(params, index, "w_in")
            current = nfield[:, _FIELD["bias"]] + _matvec(src, w_in, layer.input.delay, state.delay[index])
            if lay.w_rec >= 0:
                current = current + _matvec(state.out[:, cols], self.layer_weights(params, index, "w_rec"))
            threshold_input = (
                _matvec(src, self.layer_weights(params, index, "w_th")) if lay.w_th >= 0 else torch.zeros_like(current)
            )
            if lay.source_spiking:
                fan = self._fan_in_t[lay.fan_offset : lay.fan_offset + lay.n_in]
                sops = sops + (src * fan).sum(-1)  # one operation per event (a send-on-delta count is several)
            if lay.w_rec >= 0 and layer.neuron.spiking:
                fan = self._fan_rec_t[cols]
                sops = sops + ((state.out[:, cols] != 0) * fan).sum(-1)
            i, v, a, r, out = (getattr(state, name)[:, cols] for name in ("i", "v", "a", "r", "out"))
            code = layer.neuron.code
            if code == KIND_LI:
                v = equations.leaky_integrator(v, current, nfield[:, _FIELD["decay_mem"]])
                out = v
            elif code == KIND_GRADED:
                out = equations.graded(current)
            else:
                i, v, a, r, out = equations.lif(
                    i,
                    v,
                    a,
                    r,
                    out,
                    current,
                    threshold_input,
                    *(nfield[:, _FIELD[name]] for name in ("decay_syn", "decay_mem", "theta", "decay_th", "beta")),
                    float(layer.neuron.hard_reset),
                    float(layer.neuron.refractory),
                )
            # `1.0 * bool` in the equations yields torch's default dtype; those values are exact 0/1.
            i, v, a, r, out = (value.to(self.dtype) for value in (i, v, a, r, out))
            for name, value in zip(fields, (i, v, a, r, out), strict=True):
                fields[name].append(value)
            spikes.append(
                out.double().sum(-1) if layer.neuron.spiking else torch.zeros_like(out[:, 0], dtype=torch.float64)
            )
            delays.append(
                None if state.delay[index] is None else torch.cat([src.unsqueeze(1), state.delay[index][:, :-1]], 1)
            )
            src = out
        packed = {name: torch.cat(values, dim=1) for name, values in fields.items()}
        return state._replace(
            **packed,
            delay=tuple(delays),
            spikes=state.spikes + torch.stack(spikes, dim=1),
            sops=sops,
            steps=state.steps + 1,
        )


def _matvec(
    src: torch.Tensor, weights: torch.Tensor | None, delay: Any = 0, history: torch.Tensor | None = None
) -> torch.Tensor:
    """sum_k src[p, k] W[p, k, j]; with delays, the input of step t - d reaches synapses of delay d."""
    assert weights is not None
    if history is None:
        return torch.bmm(src.unsqueeze(1), weights).squeeze(1)
    delay_arr = np.broadcast_to(np.asarray(delay), weights.shape[1:])
    total = torch.zeros(weights.shape[0], weights.shape[2], dtype=weights.dtype)
    for d in np.unique(delay_arr):
        source = src if d == 0 else history[:, d - 1]
        mask = torch.as_tensor(delay_arr == d, dtype=weights.dtype)
        total = total + torch.bmm(source.unsqueeze(1), weights * mask).squeeze(1)
    return total
