"""Decoders: the network's last-layer output -> a command, the "decode" stage of SNN -> decode -> act.

The leaky-integrator readout is a layer (`snncontrol.layers.leaky_readout`); the blocks here work on the
output series: spike count / rate over a sliding window, and the population vector. Same contract as the
encoders: pure `step` over `[P, n]`, and `rollout` over `[T, P, n]` equal to repeated steps.

Units: rates in Hz (spikes per second over the window of `window` steps of `dt` s). A window holds `window`
steps of every output, at most `MAX_WINDOW_STEPS` steps and `MAX_WINDOW_VALUES` values per individual (4 MiB at
float32), so a decoder's state stays a few MB.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import torch

from snncontrol.errors import SpecError
from snncontrol.params import finite_number, integer, shown

DecoderState = tuple[torch.Tensor, ...]
#: Longest window (steps): 10 s at a 1 ms step.
MAX_WINDOW_STEPS = 10_000
#: Most values a window may hold per individual (window x outputs).
MAX_WINDOW_VALUES = 2**20


class Decoder(ABC):
    """Interface of every decoder block."""

    kind: ClassVar[str]

    @abstractmethod
    def out_size(self, n: int) -> int: ...

    @abstractmethod
    def init_state(self, batch: int, n: int, dt: float, dtype: torch.dtype) -> DecoderState: ...

    @abstractmethod
    def step(self, y: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]: ...

    @abstractmethod
    def rollout(self, ys: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]: ...

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self)}  # type: ignore[call-overload]


@dataclass(frozen=True)
class RateDecoder(Decoder):
    """Firing rate (Hz) of each output over the last `window` steps (spike count / (window * dt)); 1 <= window <=
    MAX_WINDOW_STEPS, and window x outputs <= MAX_WINDOW_VALUES."""

    window: int = 10
    kind: ClassVar[str] = "rate"

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", integer(self.window, "decoder.window (steps)", 1, MAX_WINDOW_STEPS))

    def out_size(self, n: int) -> int:
        if self.window * n > MAX_WINDOW_VALUES:
            raise SpecError(
                f"decoder.window: {self.window} steps of {n} outputs is more than {MAX_WINDOW_VALUES} values"
            )
        return n

    def init_state(self, batch: int, n: int, dt: float, dtype: torch.dtype) -> DecoderState:
        return torch.zeros(batch, self.window, n, dtype=dtype), torch.tensor(1.0 / (self.window * dt), dtype=dtype)

    def step(self, y: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        """`rollout` of one step: the window summed in the same order (a sum of its own differed by 1.2e-4 on
        graded values of about 1e3 in float32)."""
        rates, state = self.rollout(y.unsqueeze(0), state)
        return rates[0], state

    def rollout(self, ys: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        """The rates of T steps: each window laid out [W, n] and summed over W, the same layout and so the same
        order of additions whatever T (summed over a strided view, `step` and `rollout` differed in the last bits;
        tests/test_encoders_decoders.py holds them equal)."""
        history, scale = state
        full = torch.cat([history, ys.transpose(0, 1)], dim=1)  # [P, W + T, n]; step t is full[:, W + t]
        windows = full.unfold(1, self.window, 1)[:, 1:].transpose(-1, -2).contiguous()  # [P, T, W, n]
        return (windows.sum(dim=2) * scale).transpose(0, 1), (full[:, -self.window :].contiguous(), scale)


@dataclass(frozen=True)
class PopulationVectorDecoder(Decoder):
    """Population vector: the rate-weighted mean of the outputs' preferred values (one value out).

    With no spike in the window the output is `default`.
    """

    preferred: tuple[float, ...] = ()
    window: int = 10
    default: float = 0.0
    kind: ClassVar[str] = "population_vector"
    _rate: RateDecoder = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            items = tuple(self.preferred)
        except TypeError:
            what = shown(self.preferred)
            raise SpecError(f"PopulationVectorDecoder.preferred must be a list of numbers, got {what}") from None
        preferred = tuple(finite_number(p, f"PopulationVectorDecoder.preferred[{i}]") for i, p in enumerate(items))
        object.__setattr__(self, "preferred", preferred)
        object.__setattr__(self, "default", finite_number(self.default, "PopulationVectorDecoder.default"))
        if len(self.preferred) < 2:
            raise SpecError("PopulationVectorDecoder.preferred needs at least two preferred values")
        object.__setattr__(self, "_rate", RateDecoder(self.window))

    def out_size(self, n: int) -> int:
        if n != len(self.preferred):
            raise SpecError(f"PopulationVectorDecoder has {len(self.preferred)} preferred values for {n} outputs")
        self._rate.out_size(n)
        return 1

    def init_state(self, batch: int, n: int, dt: float, dtype: torch.dtype) -> DecoderState:
        return self._rate.init_state(batch, n, dt, dtype)

    def _vector(self, rates: torch.Tensor) -> torch.Tensor:
        total = rates.sum(dim=-1, keepdim=True)
        weighted = (rates * torch.as_tensor(self.preferred, dtype=rates.dtype)).sum(dim=-1, keepdim=True)
        return torch.where(total > 0, weighted / total.clamp(min=1e-30), torch.full_like(total, self.default))

    def step(self, y: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        rates, state = self._rate.step(y, state)
        return self._vector(rates), state

    def rollout(self, ys: torch.Tensor, state: DecoderState) -> tuple[torch.Tensor, DecoderState]:
        rates, state = self._rate.rollout(ys, state)
        return self._vector(rates), state

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "preferred": list(self.preferred), "window": self.window, "default": self.default}


_DECODERS: dict[str, type[Decoder]] = {cls.kind: cls for cls in (RateDecoder, PopulationVectorDecoder)}


def decoder_from_dict(data: dict[str, Any]) -> Decoder:
    if not isinstance(data, dict) or not isinstance(data.get("kind"), str) or data["kind"] not in _DECODERS:
        raise SpecError(f"decoder.kind must be one of {sorted(_DECODERS)}, got {data!r:.80}")
    try:
        return _DECODERS[data["kind"]](**{k: v for k, v in data.items() if k != "kind"})
    except TypeError as exc:
        raise SpecError(f"decoder {data['kind']!r}: {exc}") from None
