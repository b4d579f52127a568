"""Encoders: real-valued sensor values -> currents or spikes, the "encode" stage of sense -> encode -> SNN.

Each encoder is data (a frozen dataclass) with a pure step `y, state = enc.step(x, state)` over a leading
population dimension `[P, n_inputs]`, and `rollout` over a time series `[T, P, n_inputs]` that gives exactly
what repeated steps give. Encoders that inject currents through evolved weights (direct current with bias,
paired +/- encoding) are layers of the network: see `snncontrol.layers`.

Units: `dt` in s; rates in Hz; `delta` in the input's own unit. Every float field must be a finite number and
every integer field an integer (not a bool, float or string): `SpecError` naming the field otherwise.

A non-finite input (NaN: a missing sample, e.g. a rangefinder dropout marked by the observation adapter's
`valid` range) must not reach a neuron: `SampleHoldEncoder` repeats the last finite value in its place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch

from snncontrol.errors import SpecError
from snncontrol.params import finite_number, integer

EncoderState = tuple[torch.Tensor, ...]
_CROSSING_TOLERANCE = 1e-9
#: Largest magnitude of a population code's bounds and gain (1e308 crashed torch.linspace in float32)
MAX_CODE_VALUE = 1e30
#: Smallest send-on-delta threshold (in the input's unit): the event count of a unit change stays a float32
MIN_DELTA = 1e-30


class Encoder(ABC):
    """Interface of every encoder block."""

    kind: ClassVar[str]
    spiking: ClassVar[bool]

    @abstractmethod
    def out_size(self, n_inputs: int) -> int: ...

    @abstractmethod
    def init_state(self, batch: int, n_inputs: int, dt: float, dtype: torch.dtype) -> EncoderState: ...

    @abstractmethod
    def step(self, x: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]: ...

    def rollout(self, xs: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        """Encode a whole series [T, P, n_inputs]; the default steps through time."""
        ys = []
        for x in xs:
            y, state = self.step(x, state)
            ys.append(y)
        return torch.stack(ys), state

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True)
class PopulationEncoder(Encoder):
    """Gaussian receptive fields: each input drives `n_per_input` neurons with preferred values evenly spaced
    over [low, high]; current = gain * exp(-((x - mu) / width)^2 / 2), width = spacing * `width_factor`.
    Output [P, n_inputs * n_per_input], input-major."""

    n_per_input: int = 10
    low: float = -1.0
    high: float = 1.0
    width_factor: float = 1.0
    gain: float = 1.0
    kind: ClassVar[str] = "population"
    spiking: ClassVar[bool] = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "n_per_input", integer(self.n_per_input, "PopulationEncoder.n_per_input", low=2))
        for name in ("low", "high", "width_factor", "gain"):
            if not abs(finite_number(getattr(self, name), f"PopulationEncoder.{name}")) <= MAX_CODE_VALUE:
                raise SpecError(f"PopulationEncoder.{name} must lie within +-{MAX_CODE_VALUE:g} (the float32 the "
                                f"network computes in), got {getattr(self, name)}")
        if not self.high > self.low:
            raise SpecError(f"PopulationEncoder.high must exceed low, got [{self.low}, {self.high}]")
        if not self.width_factor * (self.high - self.low) / (self.n_per_input - 1) >= MIN_DELTA:
            raise SpecError(f"PopulationEncoder.width_factor must be positive and the fields' width at least "
                            f"{MIN_DELTA:g}, got {self.width_factor} over [{self.low}, {self.high}]")

    def out_size(self, n_inputs: int) -> int:
        return n_inputs * self.n_per_input

    def init_state(self, batch: int, n_inputs: int, dt: float, dtype: torch.dtype) -> EncoderState:
        return ()

    def step(self, x: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        centers = torch.linspace(self.low, self.high, self.n_per_input, dtype=x.dtype)
        width = (self.high - self.low) / (self.n_per_input - 1) * self.width_factor
        z = (x.unsqueeze(-1) - centers) / width
        return (self.gain * torch.exp(-0.5 * z * z)).flatten(-2), state

    def rollout(self, xs: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        return self.step(xs, state)


@dataclass(frozen=True)
class RateCode(Encoder):
    """What the rate encoders share: input x >= 0 fires at `rate_per_unit * x` Hz (capped at 1/dt), one spike
    train per input."""

    rate_per_unit: float = 1.0
    spiking: ClassVar[bool] = True

    def __post_init__(self) -> None:
        name = type(self).__name__
        if finite_number(self.rate_per_unit, f"{name}.rate_per_unit") <= 0:
            raise SpecError(f"{name}.rate_per_unit must be positive (Hz per unit), got {self.rate_per_unit}")

    def out_size(self, n_inputs: int) -> int:
        return n_inputs


@dataclass(frozen=True)
class PoissonEncoder(RateCode):
    """Poisson rate coding: each input x >= 0 fires with rate `rate_per_unit * x` Hz (capped at 1/dt).

    Draws are counter-based (seeded from `seed`, an integer of magnitude at most `MAX_SEED`, and the step index
    held in the state), so `step` is a pure function of (x, state) and a run replays exactly. E.g. pixels 0..255
    with rate_per_unit 0.25 -> <= 64 Hz.

    `shared_noise` (default): every copy of the batch draws the same uniform numbers at a step, so a copy's spikes
    depend on its own input and the step alone, never on its place in the batch: an evolved individual scores the
    same in any chunk, backend or worker count, and alone (as in a ROS node's single copy); the copies flown together
    (a genome's episodes, an evaluation's plants) share that noise too, so averaging over them does not average the
    encoder's noise. False: copy p draws row
    p of the step's draw, independent samples for the copies of one batch (place recognition's queries and
    modules, which call `step` directly).
    """

    seed: int = 0
    shared_noise: bool = True
    kind: ClassVar[str] = "poisson"
    #: Largest |seed|: torch's CPU generator keeps 32 bits of its seed, so larger seeds would repeat smaller ones'
    #: streams (7 and 7 + 2**32 gave the same spikes).
    MAX_SEED: ClassVar[int] = 2**32 - 1

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "seed", integer(self.seed, "PoissonEncoder.seed", -self.MAX_SEED, self.MAX_SEED))
        if not isinstance(self.shared_noise, bool):
            raise SpecError(f"PoissonEncoder.shared_noise must be true or false, got {self.shared_noise!r:.40}")

    def init_state(self, batch: int, n_inputs: int, dt: float, dtype: torch.dtype) -> EncoderState:
        return (torch.zeros((), dtype=torch.int64), torch.tensor(self.rate_per_unit * dt, dtype=dtype))

    def step(self, x: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        counter, scale = state
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + int(counter))
        prob = (x * scale).clamp(0.0, 1.0)
        shape = x.shape[-1:] if self.shared_noise else x.shape
        spikes = (torch.rand(shape, generator=generator, dtype=x.dtype) < prob).to(x.dtype)
        return spikes, (counter + 1, scale)


@dataclass(frozen=True)
class RegularEncoder(RateCode):
    """Deterministic rate coding: each input x >= 0 fires a regular spike train of `rate_per_unit * x` Hz (capped
    at 1/dt), no randomness. Input i integrates its spike probability per step in a phase and fires when the
    phase reaches 1 (then loses 1), so over n steps it fires floor(n p + phase0) times: within one spike of the
    expected count, where a Poisson train is off by about sqrt(n p). The starting phases are spread over [0, 1)
    (phase0_i = frac(i * golden ratio)) so that equal inputs do not all fire on the same step.
    """

    kind: ClassVar[str] = "regular"

    def init_state(self, batch: int, n_inputs: int, dt: float, dtype: torch.dtype) -> EncoderState:
        golden = (5**0.5 - 1) / 2
        phase = torch.remainder(torch.arange(n_inputs, dtype=torch.float64) * golden, 1.0).to(dtype)
        return (phase.expand(batch, n_inputs).clone(), torch.tensor(self.rate_per_unit * dt, dtype=dtype))

    def step(self, x: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        phase, scale = state
        phase = phase + (x * scale).clamp(0.0, 1.0)
        spikes = (phase >= 1.0).to(x.dtype)
        return spikes, (phase - spikes, scale)


@dataclass(frozen=True)
class SendOnDeltaEncoder(Encoder):
    """Send-on-delta (event) coding: an event each time an input moves `delta` away from its last reference.

    Output [P, 2 * n_inputs]: per input, the count of up-crossings then the count of down-crossings this
    step (usually 0 or 1). The reference starts at the first value seen; non-finite inputs give no event and
    leave the reference where it was. Used for event-driven control (step only on change).
    """

    delta: float = 0.05
    kind: ClassVar[str] = "send_on_delta"
    spiking: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not finite_number(self.delta, "SendOnDeltaEncoder.delta") >= MIN_DELTA:
            raise SpecError(f"SendOnDeltaEncoder.delta must be at least {MIN_DELTA:g} (in the input's unit: smaller "
                            f"ones make event counts beyond float32, every output NaN), got {self.delta}")

    def out_size(self, n_inputs: int) -> int:
        return 2 * n_inputs

    def init_state(self, batch: int, n_inputs: int, dt: float, dtype: torch.dtype) -> EncoderState:
        """The reference is float64 whatever the network's dtype: a float32 one drifted by half an ulp per event
        and lost or doubled events on a long ramp (one step in ten of a ramp of one delta per step)."""
        return (torch.full((batch, n_inputs), float("nan"), dtype=torch.float64),)

    def step(self, x: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        (ref,) = state
        wide = x.to(torch.float64)
        finite = torch.isfinite(wide)
        ref = torch.where(torch.isnan(ref) & finite, wide, ref)
        diff = torch.where(finite, wide - ref, torch.zeros_like(wide))
        # A tolerance keeps rounding (1.2 - 1.0 = 0.1999..., and the input's own rounding to its dtype, e.g. k x
        # 0.3 in float32) from losing an event: relative, plus a few of the input dtype's ulps at its magnitude, at
        # most a quarter delta (an input coarser than that, 5.5e6 m in float32 with a delta of 1 m, would otherwise
        # fire both ways on every step of a constant value).
        ulps = (4 * torch.finfo(x.dtype).eps * wide.abs().nan_to_num(0.0) / self.delta).clamp(max=0.25)
        up = torch.floor(diff / self.delta + _CROSSING_TOLERANCE + ulps).clamp(min=0.0)
        down = torch.floor(-diff / self.delta + _CROSSING_TOLERANCE + ulps).clamp(min=0.0)
        ref = ref + self.delta * (up - down)
        return torch.cat([up, down], dim=-1).to(x.dtype), (ref,)


@dataclass(frozen=True)
class SampleHoldEncoder(Encoder):
    """Zero-order hold over missing samples: each non-finite input is replaced by the input's last finite value
    (0 before the first one); finite inputs pass unchanged. Output [P, n_inputs], in the input's own unit.

    This is input conditioning, not neural computation: a lost sensor reading leaves the network's input where
    it was (no derivative kick, no NaN in a membrane), as a sampled-data controller holds its last sample.
    """

    kind: ClassVar[str] = "sample_hold"
    spiking: ClassVar[bool] = False

    def out_size(self, n_inputs: int) -> int:
        return n_inputs

    def init_state(self, batch: int, n_inputs: int, dt: float, dtype: torch.dtype) -> EncoderState:
        return (torch.zeros(batch, n_inputs, dtype=dtype),)

    def step(self, x: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        (last,) = state
        y = torch.where(torch.isfinite(x), x, last)
        return y, (y,)

    def rollout(self, xs: torch.Tensor, state: EncoderState) -> tuple[torch.Tensor, EncoderState]:
        """Forward fill along time: each step takes the value of the latest finite step at or before it."""
        (last,) = state
        steps = torch.arange(1, xs.shape[0] + 1).view(-1, *([1] * (xs.ndim - 1))).expand_as(xs)
        source = torch.cummax(torch.where(torch.isfinite(xs), steps, 0), dim=0).values  # 0: none yet
        filled = torch.gather(torch.cat([last.unsqueeze(0), xs]), 0, source)
        return filled, (filled[-1],)


_ENCODERS: dict[str, type[Encoder]] = {
    cls.kind: cls
    for cls in (PopulationEncoder, PoissonEncoder, RegularEncoder, SendOnDeltaEncoder, SampleHoldEncoder)
}


def encoder_from_dict(data: dict[str, Any]) -> Encoder:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in _ENCODERS:
        raise SpecError(f"encoder.kind must be one of {sorted(_ENCODERS)}, got {data!r:.80}")
    try:
        return _ENCODERS[data["kind"]](**{k: v for k, v in data.items() if k != "kind"})
    except TypeError as exc:
        raise SpecError(f"encoder {data['kind']!r}: {exc}") from None


__all__ = [
    "Encoder",
    "PoissonEncoder",
    "PopulationEncoder",
    "RegularEncoder",
    "SampleHoldEncoder",
    "SendOnDeltaEncoder",
    "encoder_from_dict",
]
