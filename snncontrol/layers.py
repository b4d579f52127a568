"""Layers: a population of neurons of one model with its input, recurrent and threshold connections.

Also the builders of the layers that act as current encoders and readouts:
- `direct_current_encoding`: each neuron gets its own weighted input channel plus a bias (direct injection),
- `paired_encoding`: neurons in pairs sharing a bias with opposite-sign weights, so positive and negative
  errors are encoded symmetrically (Burgers et al. 2023),
- `leaky_readout`: a leaky-integrator decoding layer (exponential moving average of spikes).
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from snncontrol.connections import Connection
from snncontrol.errors import SpecError
from snncontrol.neurons.models import (
    LIF,
    LIMITS,
    Bounds,
    LeakyIntegrator,
    NeuronModel,
    neuron_from_dict,
    neuron_to_dict,
)
from snncontrol.params import Bound, bound_to_json, bound_value, finite_array, shown

#: Default bounds of the connection and bias parameters (Burgers et al. 2023 table).
CONNECTION_BOUNDS: dict[str, Bounds] = {"w_in": (-2.0, 2.0), "w_rec": (-1.0, 1.0), "w_th": (-1.0, 1.0)}
BIAS_BOUNDS: Bounds = (-1.0, 1.0)
#: Largest layer (neurons) and largest weight parameter (values: 1 GiB of float64, the most a controller
#: artifact's params file holds), each refused before anything of its size is allocated; a whole network's
#: weights and neurons are capped by `snncontrol.spec.MAX_TOTAL_WEIGHTS` / `MAX_NEURONS`.
MAX_LAYER_SIZE = 1_000_000
MAX_WEIGHTS = 2**27
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ParamDecl:
    """One parameter of a layer: per-neuron (possibly shared in groups) or a connection's weights. Each bound is
    one float, or an array of the parameter's shape (per-element bounds)."""

    name: str
    shape: tuple[int, ...]
    bounds: tuple[Bound, Bound]
    per_neuron: bool


@dataclass(frozen=True, eq=False)
class Layer:
    """A layer of `size` neurons.

    input: connection from the previous layer (or the encoded network input for the first layer).
    recurrent: optional connection from this layer's previous-step output onto itself.
    threshold_input: IWTA threshold weights from the same source as `input` (needs LIF adaptation "iwta").
    bias: add an evolved per-neuron bias current.
    fixed: parameters held constant (not in the genome), name -> value (scalar or array of its shape).
    bounds: parameter name -> (low, high), overriding the defaults; each a number, or an array of the
        parameter's shape for per-element bounds (e.g. the readouts of two networks put side by side).
    init: parameter name -> initial value (scalar or array) for `ParameterSpec.initial()`.
    shared: per-neuron parameter name -> group index of each neuron; the genome then holds one value per group.
    """

    name: str
    size: int
    neuron: NeuronModel
    input: Connection = field(default_factory=Connection)
    recurrent: Connection | None = None
    threshold_input: Connection | None = None
    bias: bool = False
    fixed: dict[str, Any] = field(default_factory=dict)
    bounds: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    init: dict[str, Any] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    def declarations(self, n_in: int) -> list[ParamDecl]:
        """Every parameter of this layer (evolvable or fixed), in genome order."""
        decls = [ParamDecl("w_in", self.input.weight_shape(n_in, self.size), CONNECTION_BOUNDS["w_in"], False)]
        if self.recurrent is not None:
            shape = self.recurrent.weight_shape(self.size, self.size)
            decls.append(ParamDecl("w_rec", shape, CONNECTION_BOUNDS["w_rec"], False))
        if self.threshold_input is not None:
            shape = self.threshold_input.weight_shape(n_in, self.size)
            decls.append(ParamDecl("w_th", shape, CONNECTION_BOUNDS["w_th"], False))
        neuron_params = dict(self.neuron.parameters())
        if self.bias:
            neuron_params = {"bias": BIAS_BOUNDS, **neuron_params}
        for name, bounds in neuron_params.items():
            groups = self.group_index(name)
            shape = (self.size,) if groups is None else (int(groups.max()) + 1,)
            decls.append(ParamDecl(name, shape, bounds, True))
        return [
            ParamDecl(
                d.name,
                d.shape,
                tuple(bound_value(b, d.shape, f"{self.name}.{d.name}") for b in self.bounds.get(d.name, d.bounds)),  # type: ignore[arg-type]
                d.per_neuron,
            )
            for d in decls
        ]

    def group_index(self, name: str) -> np.ndarray | None:
        groups = self.shared.get(name)
        return None if groups is None else np.asarray(groups, dtype=np.int64)

    def validate(self, n_in: int) -> None:
        where = f"layer {self.name!r}"
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise SpecError(f"layer name must be an identifier (letters, digits, _), got {self.name!r}")
        if not isinstance(self.size, int) or isinstance(self.size, bool) or not 1 <= self.size <= MAX_LAYER_SIZE:
            raise SpecError(f"{where}: size must be an integer in [1, {MAX_LAYER_SIZE}], got {self.size!r:.40}")
        if not isinstance(self.bias, bool):
            raise SpecError(f"{where}.bias must be true or false, got {shown(self.bias)}")
        sources = {"input": n_in, "recurrent": self.size, "threshold_input": n_in}
        for key, source in sources.items():
            connection = getattr(self, key)
            if connection is not None and math.prod(connection.weight_shape(source, self.size)) > MAX_WEIGHTS:
                raise SpecError(f"{where}.{key}: more than {MAX_WEIGHTS} weights")
        self.input.validate(n_in, self.size, f"{where}.input")
        if self.recurrent is not None:
            self.recurrent.validate(self.size, self.size, f"{where}.recurrent")
            if self.recurrent.max_delay:
                raise SpecError(f"{where}.recurrent: delays are supported on input connections only")
        if self.threshold_input is not None:
            self.threshold_input.validate(n_in, self.size, f"{where}.threshold_input")
            if self.threshold_input.max_delay:
                raise SpecError(f"{where}.threshold_input: delays are supported on input connections only")
        iwta = isinstance(self.neuron, LIF) and self.neuron.adaptation == "iwta"
        if iwta != (self.threshold_input is not None):
            raise SpecError(f"{where}: LIF adaptation 'iwta' and threshold_input go together")
        for name, groups in self.shared.items():
            try:
                arr = np.asarray(groups)
            except ValueError:  # (ragged)
                arr = np.empty(0)
            if arr.shape != (self.size,) or arr.dtype.kind not in "iu" or arr.min() < 0:
                raise SpecError(f"{where}.shared[{name!r}] must be {self.size} non-negative group indices")
            if len(np.unique(arr)) != arr.max() + 1:
                raise SpecError(f"{where}.shared[{name!r}] must use every group index 0..{arr.max()}")
        decls = {d.name: d for d in self.declarations(n_in)}
        for what, mapping in (("fixed", self.fixed), ("bounds", self.bounds), ("init", self.init)):
            unknown = set(mapping) - set(decls)
            if unknown:
                raise SpecError(f"{where}.{what} names unknown parameter(s) {sorted(unknown)}; has {sorted(decls)}")
        unknown_shared = set(self.shared) - {n for n, d in decls.items() if d.per_neuron}
        if unknown_shared:
            raise SpecError(f"{where}.shared names parameter(s) that are not per-neuron: {sorted(unknown_shared)}")
        for name, (low, high) in ((n, decls[n].bounds) for n in decls):
            if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.all(high >= low)):
                raise SpecError(f"{where}.bounds[{name!r}] must be finite with high >= low, got ({low}, {high})")
            _check_limits(low, high, name, f"{where}.bounds[{name!r}]")
        for name, value in self.fixed.items():
            values = finite_array(value, f"{where}.fixed[{name!r}]")
            try:
                np.broadcast_to(values, decls[name].shape)
            except ValueError:
                raise SpecError(f"{where}.fixed[{name!r}] does not fit shape {decls[name].shape}") from None
            _check_limits(values, values, name, f"{where}.fixed[{name!r}]")
        held = sorted(set(self.init) & set(self.fixed))
        if held:
            raise SpecError(f"{where}: parameter(s) {held} are fixed, so an init value for them would be ignored")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "size": self.size,
            "neuron": neuron_to_dict(self.neuron),
            "input": self.input.to_dict(),
            "bias": self.bias,
        }
        if self.recurrent is not None:
            out["recurrent"] = self.recurrent.to_dict()
        if self.threshold_input is not None:
            out["threshold_input"] = self.threshold_input.to_dict()
        for key in ("fixed", "init", "shared"):
            mapping = getattr(self, key)
            if mapping:
                out[key] = {k: np.asarray(v).tolist() for k, v in mapping.items()}
        if self.bounds:
            out["bounds"] = {k: [bound_to_json(np.asarray(b, np.float64)) for b in v] for k, v in self.bounds.items()}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], index: int) -> Layer:
        where = f"layers[{index}]"
        if not isinstance(data, dict):
            raise SpecError(f"{where} must be a mapping")
        allowed = {
            "name",
            "size",
            "neuron",
            "input",
            "recurrent",
            "threshold_input",
            "bias",
            "fixed",
            "bounds",
            "init",
            "shared",
        }
        unknown = set(data) - allowed
        if unknown:
            raise SpecError(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
        for key in ("name", "size", "neuron"):
            if key not in data:
                raise SpecError(f"{where} is missing field {key!r}")
        for key in ("fixed", "bounds", "init", "shared"):
            if not isinstance(data.get(key, {}), dict):
                raise SpecError(f"{where}.{key} must be a mapping of parameter names")
        kwargs = dict(data)
        kwargs["neuron"] = neuron_from_dict(data["neuron"])
        kwargs["input"] = Connection.from_dict(data.get("input", {}), f"{where}.input")
        for key in ("recurrent", "threshold_input"):
            if data.get(key) is not None:
                kwargs[key] = Connection.from_dict(data[key], f"{where}.{key}")
        if "bounds" in data:
            try:
                kwargs["bounds"] = {k: _bound_pair(v) for k, v in data["bounds"].items()}
            except (TypeError, ValueError, IndexError, AttributeError):
                raise SpecError(f"{where}.bounds must map parameter names to [low, high] of finite numbers") from None
        return cls(**kwargs)


def _bound_pair(value: Any) -> tuple[Any, Any]:
    """[low, high] from JSON: finite numbers, or nested lists of them (per-element bounds); ValueError otherwise."""
    low, high = (finite_array(b, "bound") for b in value)
    return tuple(float(b) if b.ndim == 0 else b for b in (low, high))  # type: ignore[return-value]


def _check_limits(low: Any, high: Any, name: str, where: str) -> None:
    """Refuse a range [low, high] (numbers or arrays) that leaves the model's limit for parameter `name`
    (`snncontrol.neurons.models.LIMITS`), e.g. a decay bound of 1.5: a genome there would grow a state without end."""
    if name in LIMITS:
        floor, ceiling = LIMITS[name]
        if np.any(np.asarray(low) < floor) or np.any(np.asarray(high) > ceiling):
            raise SpecError(f"{where} must stay within [{floor:g}, {ceiling:g}], the range the neuron equations "
                            f"assume for {name}; got values from {np.min(low):g} to {np.max(high):g}")


def _check_inputs(n_inputs: Any) -> None:
    """An encoding's neurons read channel k mod n_inputs: refuse a count that is not a positive integer (0 raised
    an IndexError from deep inside, a float a TypeError)."""
    if not isinstance(n_inputs, numbers.Integral) or isinstance(n_inputs, bool) or n_inputs < 1:
        raise SpecError(f"n_inputs must be a positive integer, got {n_inputs!r:.40}")


def direct_current_encoding(name: str, size: int, n_inputs: int, neuron: NeuronModel | None = None) -> Layer:
    """Neurons that each receive one input channel (neuron k reads channel k mod n_inputs) times its own
    weight, plus its own bias: direct current injection."""
    _check_inputs(n_inputs)
    tie = np.full((n_inputs, size), -1, dtype=np.int64)
    tie[np.arange(size) % n_inputs, np.arange(size)] = np.arange(size)
    return Layer(name, size, neuron or LIF(synaptic=False), input=Connection(tie=tie), bias=True)


def paired_encoding(name: str, n_pairs: int, n_inputs: int = 1, neuron: NeuronModel | None = None) -> Layer:
    """2 * n_pairs neurons in pairs (2j, 2j+1) that read channel j mod n_inputs with weights +w_j and -w_j and
    share the bias b_j: positive and negative inputs are encoded symmetrically, the bias lets neurons fire
    near zero input (Burgers et al. 2023)."""
    _check_inputs(n_inputs)
    size = 2 * n_pairs
    pair = np.arange(size) // 2
    tie = np.full((n_inputs, size), -1, dtype=np.int64)
    tie[pair % n_inputs, np.arange(size)] = pair
    coeff = np.zeros((n_inputs, size))
    coeff[pair % n_inputs, np.arange(size)] = np.where(np.arange(size) % 2 == 0, 1.0, -1.0)
    return Layer(
        name,
        size,
        neuron or LIF(synaptic=False),
        input=Connection(tie=tie, tie_coeff=coeff),
        bias=True,
        shared={"bias": pair},
    )


def leaky_readout(name: str = "readout", size: int = 1, weight_bounds: Bounds = (-1.0, 1.0)) -> Layer:
    """Leaky-integrator decoding layer: y[t] = decay y[t-1] + sum(w s[t]) (an EMA of the spikes it reads)."""
    return Layer(name, size, LeakyIntegrator(), bounds={"w_in": weight_bounds})
