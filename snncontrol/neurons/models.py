"""Neuron model specifications: which per-neuron parameters a model has, their default bounds, and its kind.

A model is data (a frozen dataclass, JSON-serializable); its dynamics live in `equations.py`. Every model
fills the same packed per-neuron parameter fields `NEURON_FIELDS`, so one compiled time loop serves all:
fields a model does not use hold constants (e.g. `decay_syn = 0` for a plain LIF).

Units: decays are per-step factors in [0, 1]; thresholds, biases and currents are in the network's
dimensionless membrane units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal

from snncontrol.errors import SpecError

#: Packed per-neuron parameter fields, in the order the compiled loop reads them.
NEURON_FIELDS: tuple[str, ...] = ("bias", "decay_syn", "decay_mem", "theta", "decay_th", "beta")

#: Longest refractory period (steps): 10 s at a 1 ms step.
MAX_REFRACTORY_STEPS = 10_000

#: Integer codes of the neuron kinds in the compiled loop.
KIND_LIF, KIND_LI, KIND_GRADED = 0, 1, 2

Bounds = tuple[float, float]
UNIT: Bounds = (0.0, 1.0)

#: The range each per-neuron parameter must stay in, whatever a layer's `bounds` or `fixed` say: the equations
#: assume it (a decay above 1 grows a state without end, a negative threshold fires a soft-reset neuron for ever,
#: a negative adaptation lowers the threshold with every spike). Bias has no limit.
LIMITS: dict[str, Bounds] = {
    "decay_syn": UNIT,
    "decay_mem": UNIT,
    "decay_th": UNIT,
    "theta": (0.0, float("inf")),
    "beta": (0.0, float("inf")),
}


@dataclass(frozen=True)
class LIF:
    """Leaky integrate-and-fire neuron (see `equations.lif`).

    synaptic: current-based (CuBa) with a synaptic current state and decay `decay_syn`; False gives the plain
        LIF (`decay_syn = 0`, the input current acts directly).
    reset: "soft" subtracts the crossed threshold, "hard" sets the membrane to 0.
    adaptation: "none"; "spike" (each own spike raises the threshold by `beta`, decaying with `decay_th`);
        "iwta" (input-weighted threshold adaptation: each incoming spike moves the threshold by its
        threshold weight, decaying back to base with `decay_th`; the layer needs a `threshold_input`).
    refractory: steps after a spike during which the membrane takes no current and no spike can occur (a
        synaptic current keeps integrating and reaches the membrane afterwards; at most MAX_REFRACTORY_STEPS).
    """

    synaptic: bool = True
    reset: Literal["soft", "hard"] = "soft"
    adaptation: Literal["none", "spike", "iwta"] = "none"
    refractory: int = 0
    kind: ClassVar[str] = "lif"
    code: ClassVar[int] = KIND_LIF
    spiking: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.synaptic, bool):  # any truthy value (null, "no") read as a choice before
            raise SpecError(f"LIF.synaptic must be true or false, got {self.synaptic!r:.40}")
        if self.reset not in ("soft", "hard"):
            raise SpecError(f"LIF.reset must be 'soft' or 'hard', got {self.reset!r}")
        if self.adaptation not in ("none", "spike", "iwta"):
            raise SpecError(f"LIF.adaptation must be 'none', 'spike' or 'iwta', got {self.adaptation!r}")
        steps = self.refractory
        if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_REFRACTORY_STEPS:
            raise SpecError(
                f"LIF.refractory must be an integer in [0, {MAX_REFRACTORY_STEPS}] (steps), got {self.refractory!r:.40}"
            )

    def parameters(self) -> dict[str, Bounds]:
        """Per-neuron parameters of this model with their default bounds."""
        params: dict[str, Bounds] = {"decay_mem": UNIT, "theta": (0.0, 10.0)}
        if self.synaptic:
            params["decay_syn"] = UNIT
        if self.adaptation != "none":
            params["decay_th"] = UNIT
        if self.adaptation == "spike":
            params["beta"] = UNIT
        return params

    @property
    def hard_reset(self) -> bool:
        return self.reset == "hard"


@dataclass(frozen=True)
class LeakyIntegrator:
    """Non-spiking leaky integrator, the usual readout: v[t] = decay_mem v[t-1] + input. Output is v."""

    kind: ClassVar[str] = "li"
    code: ClassVar[int] = KIND_LI
    spiking: ClassVar[bool] = False
    refractory: ClassVar[int] = 0
    hard_reset: ClassVar[bool] = False

    def parameters(self) -> dict[str, Bounds]:
        return {"decay_mem": UNIT}


@dataclass(frozen=True)
class Graded:
    """Graded (clamped-linear, non-spiking) unit: output clamp(input, 0, 1), no state (NCAP's neurons)."""

    kind: ClassVar[str] = "graded"
    code: ClassVar[int] = KIND_GRADED
    spiking: ClassVar[bool] = False
    refractory: ClassVar[int] = 0
    hard_reset: ClassVar[bool] = False

    def parameters(self) -> dict[str, Bounds]:
        return {}


NeuronModel = LIF | LeakyIntegrator | Graded
_KINDS: dict[str, type[NeuronModel]] = {"lif": LIF, "li": LeakyIntegrator, "graded": Graded}


def neuron_to_dict(model: NeuronModel) -> dict[str, Any]:
    return {"kind": model.kind, **asdict(model)}


def neuron_from_dict(data: dict[str, Any]) -> NeuronModel:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in _KINDS:
        raise SpecError(f"neuron.kind must be one of {sorted(_KINDS)}, got {data!r:.80}")
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        return _KINDS[data["kind"]](**fields)
    except TypeError as exc:
        raise SpecError(f"neuron {data['kind']!r}: {exc}") from None
