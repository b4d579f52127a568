"""Network specification: encoder -> layers -> decoder, the step `dt` (s), and its JSON form.

A spec is data. From it the parameter spec (genome layout with bounds) is derived, and a `Network` executes
it. `NetworkSpec.from_dict` validates everything and raises one `SpecError` line naming the bad field.

`metadata` records how a spec was made, as data a reader can rely on (a spec's `name` is only a label): a JSON
object of plain values (str, int, finite float, bool, null), conventionally the builder's name and its options,
e.g. `{"builder": "ncap", "n_links": 6, "variant": "spiking", "period": 60, "speed": false, "turn": false,
"turn_joints": 1}` for `snncontrol.controllers.ncap.ncap_spec`, which `retarget` reads back. It does not take
part in the computation, and `to_dict` leaves it out when empty.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from snncontrol.decoders import Decoder, decoder_from_dict
from snncontrol.encoders import Encoder, encoder_from_dict
from snncontrol.errors import SpecError
from snncontrol.layers import Layer
from snncontrol.params import ParamEntry, ParameterSpec

SPEC_VERSION = 1
#: Range of the control step (s): 1 us .. 1 h (a shorter step would overflow float32 rates such as 1 / (window dt)).
MIN_DT_S, MAX_DT_S = 1e-6, 3600.0
#: Most effective weights a network may have in all (each connection's inputs x neurons, as `Network` holds them
#: per individual: fixed, tied, masked and one-to-one weights included, which the genome and the per-connection
#: cap `layers.MAX_WEIGHTS` do not count; 128 MiB of float32) and most neurons in all: a small spec file cannot
#: make a loader allocate gigabytes. The networks here are far below: shipped and configs/ at most 1.5e4 weights
#: (configs/ncap_mlp.yaml), 203 neurons; benchmarks/snn_step.py 80 neurons; a place-recognition module (not a
#: NetworkSpec) 784 x 400 = 3.1e5 weights.
MAX_TOTAL_WEIGHTS = 2**25
MAX_NEURONS = 1_000_000
_PLAIN = (str, int, float, bool, type(None))


@dataclass(frozen=True, eq=False)
class NetworkSpec:
    """A feed-forward stack of layers (each may be recurrent) between an optional encoder and decoder.

    n_inputs: number of real-valued inputs per individual per step.
    dt: the control step in s, in [MIN_DT_S, MAX_DT_S] (decays are per step of this length).
    name: a label. metadata: how the spec was made (builder and options; see the module doc).
    """

    n_inputs: int
    layers: tuple[Layer, ...]
    dt: float = 0.1
    encoder: Encoder | None = None
    decoder: Decoder | None = None
    name: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    parameters: ParameterSpec = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "metadata", _plain_mapping(self.metadata))
        self._validate()
        entries, offset = [], 0
        for layer, n_in in zip(self.layers, self.layer_input_sizes(), strict=True):
            for decl in layer.declarations(n_in):
                if decl.name in layer.fixed:
                    continue
                entry = ParamEntry.create(
                    f"{layer.name}.{decl.name}", decl.shape, decl.bounds, offset, layer.init.get(decl.name)
                )
                entries.append(entry)
                offset += entry.size
        object.__setattr__(self, "parameters", ParameterSpec(tuple(entries)))

    def _validate(self) -> None:
        if not isinstance(self.n_inputs, int) or isinstance(self.n_inputs, bool) or self.n_inputs < 1:
            raise SpecError(f"n_inputs must be a positive integer, got {self.n_inputs!r}")
        if isinstance(self.dt, bool) or not isinstance(self.dt, int | float) or not MIN_DT_S <= self.dt <= MAX_DT_S:
            limits = f"at least {MIN_DT_S:g} and at most {MAX_DT_S:g}"
            raise SpecError(f"dt must be a number of seconds, {limits}, got {self.dt!r:.40}")
        if not self.layers:
            raise SpecError("a network needs at least one layer")
        names = [layer.name for layer in self.layers]
        if not all(isinstance(name, str) for name in names):  # (set() of a list name raised "unhashable type")
            raise SpecError(f"layer names must be strings, got {names!r:.120}")
        if len(set(names)) != len(names):
            raise SpecError(f"layer names must be unique, got {names}")
        weights = 0
        for layer, n_in in zip(self.layers, self.layer_input_sizes(), strict=True):
            layer.validate(n_in)
            sources = (n_in, layer.size if layer.recurrent is not None else 0,
                       n_in if layer.threshold_input is not None else 0)
            weights += sum(sources) * layer.size
        if weights > MAX_TOTAL_WEIGHTS:
            raise SpecError(f"the network has {weights} effective weights (each connection's inputs x neurons, fixed "
                            f"ones included): more than {MAX_TOTAL_WEIGHTS}")
        if self.n_neurons > MAX_NEURONS:
            raise SpecError(f"the network has {self.n_neurons} neurons: more than {MAX_NEURONS}")
        if self.decoder is not None:
            self.decoder.out_size(self.layers[-1].size)

    def layer_input_sizes(self) -> list[int]:
        first = self.encoder.out_size(self.n_inputs) if self.encoder is not None else self.n_inputs
        return [first] + [layer.size for layer in self.layers[:-1]]

    @property
    def n_outputs(self) -> int:
        last = self.layers[-1].size
        return self.decoder.out_size(last) if self.decoder is not None else last

    @property
    def n_neurons(self) -> int:
        return sum(layer.size for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "version": SPEC_VERSION,
            "name": self.name,
            "n_inputs": self.n_inputs,
            "dt": self.dt,
            "encoder": None if self.encoder is None else self.encoder.to_dict(),
            "layers": [layer.to_dict() for layer in self.layers],
            "decoder": None if self.decoder is None else self.decoder.to_dict(),
        }
        if self.metadata:
            data["metadata"] = dict(self.metadata)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkSpec:
        if not isinstance(data, dict):
            raise SpecError(f"a network spec must be a mapping, got {type(data).__name__}")
        if data.get("version") != SPEC_VERSION:
            raise SpecError(f"network spec version must be {SPEC_VERSION}, got {data.get('version')!r}")
        unknown = set(data) - {"version", "name", "n_inputs", "dt", "encoder", "layers", "decoder", "metadata"}
        if unknown:
            raise SpecError(f"network spec has unknown field(s): {', '.join(sorted(unknown))}")
        layers = data.get("layers")
        if not isinstance(layers, list):
            raise SpecError("network spec field 'layers' must be a list")
        if not isinstance(data.get("name", ""), str):
            raise SpecError(f"network spec field 'name' must be a string, got {data['name']!r:.40}")
        return cls(
            n_inputs=data.get("n_inputs"),  # type: ignore[arg-type]
            layers=tuple(Layer.from_dict(item, i) for i, item in enumerate(layers)),
            dt=data.get("dt", 0.1),
            encoder=None if data.get("encoder") is None else encoder_from_dict(data["encoder"]),
            decoder=None if data.get("decoder") is None else decoder_from_dict(data["decoder"]),
            name=data.get("name", ""),
            metadata=data.get("metadata", {}),
        )


def _plain_mapping(metadata: Any) -> dict[str, Any]:
    """A copy of `metadata`; SpecError unless it is a JSON object of plain values."""
    if not isinstance(metadata, Mapping):
        raise SpecError(f"network spec metadata must be a mapping, got {type(metadata).__name__}")
    for key, value in metadata.items():
        if not isinstance(key, str):
            raise SpecError(f"network spec metadata keys must be strings, got {key!r}")
        if not isinstance(value, _PLAIN) or (isinstance(value, float) and not math.isfinite(value)):
            raise SpecError(f"network spec metadata {key!r} must be a plain JSON value, got {value!r:.60}")
    return dict(metadata)
