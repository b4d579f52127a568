"""Synaptic connections between a source of `n_in` values and `n_out` neurons, and their effective weights.

A connection is data: its structure (dense, one-to-one, or tied weights shared through an index matrix),
an optional sparsity mask, optional sign constraints (Dale's law / E-I: +1 excitatory, -1 inhibitory, 0 free;
per presynaptic neuron or per synapse, enforced by clamping in the forward pass) and optional integer
synaptic delays (steps, at most `MAX_DELAY_STEPS`; a delay line holds that many steps of its `n_in` inputs, at
most `MAX_DELAY_VALUES` values per individual). Weights are dimensionless membrane units per spike (or per unit
of input current).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from snncontrol.errors import SpecError
from snncontrol.params import finite_array

#: Longest synaptic delay (steps): 10 s at a 1 ms step, far beyond any controller's use.
MAX_DELAY_STEPS = 10_000
#: Most values a layer's delay buffer may hold per individual (its longest delay x its number of inputs): 4 MiB
#: at float32, 8 MiB at float64, so the delay buffer of a layer stays a few MB (e.g. 10_000 steps of 104 inputs).
MAX_DELAY_VALUES = 2**20


def _int_matrix(value: Any, name: str, booleans: bool = False) -> np.ndarray | None:
    """`value` as a 1-D or 2-D int64 array; booleans only where they mean 0/1 (`booleans`: a mask), not for
    indices, signs or delays (a tie of true/false made every false entry index 0, a synapse)."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in ("iub" if booleans else "iu") or arr.ndim not in (1, 2):
        raise SpecError(f"connection.{name} must be a 1-D or 2-D array of integers, got {arr.dtype} {arr.shape}")
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Connection:
    """Synapses into a layer. `pattern`: "dense" (n_in x n_out weights) or "one_to_one" (n weights, n_in = n).

    tie: [n_in, n_out] integer matrix of indices into a shared weight vector (-1: no synapse); the evolved
        parameter is then that vector, of length max(tie) + 1 (weight sharing, e.g. NCAP's 4 parameters).
    tie_coeff: [n_in, n_out] multipliers of the tied weights (e.g. +1/-1 for paired +/- encoding).
    mask: [n_in, n_out] 0/1 sparsity mask.
    sign: +1/-1/0 per presynaptic neuron ([n_in], Dale's law) or per synapse ([n_in, n_out]).
    delay: synaptic delay in steps, one integer or [n_in, n_out] (the spike of step t arrives at t + delay).
    """

    pattern: Literal["dense", "one_to_one"] = "dense"
    tie: np.ndarray | None = None
    tie_coeff: np.ndarray | None = None
    mask: np.ndarray | None = None
    sign: np.ndarray | None = None
    delay: np.ndarray | int = 0

    def __post_init__(self) -> None:
        if self.pattern not in ("dense", "one_to_one"):
            raise SpecError(f"connection.pattern must be 'dense' or 'one_to_one', got {self.pattern!r}")
        for name in ("tie", "mask", "sign"):
            object.__setattr__(self, name, _int_matrix(getattr(self, name), name, booleans=name == "mask"))
        if self.tie_coeff is not None:
            object.__setattr__(self, "tie_coeff", finite_array(self.tie_coeff, "connection.tie_coeff"))
            if self.tie is None:
                raise SpecError("connection.tie_coeff needs connection.tie")
        if self.tie is not None and self.pattern != "dense":
            raise SpecError("connection.tie needs pattern 'dense'")
        if self.sign is not None and not np.isin(self.sign, (-1, 0, 1)).all():
            raise SpecError("connection.sign must hold only -1, 0 and +1")
        if self.mask is not None and not np.isin(self.mask, (0, 1)).all():
            raise SpecError("connection.mask must hold only 0 and 1")
        plain = isinstance(self.delay, int) and not isinstance(self.delay, bool)
        delay = self.delay if plain else _int_matrix(self.delay, "delay")
        if np.any(np.asarray(delay, dtype=object) < 0) or np.any(np.asarray(delay, dtype=object) > MAX_DELAY_STEPS):
            raise SpecError(f"connection.delay must lie in [0, {MAX_DELAY_STEPS}] (steps)")
        object.__setattr__(self, "delay", delay)

    # --- structure -----------------------------------------------------------------------------------------
    def validate(self, n_in: int, n_out: int, where: str) -> None:
        """Check every array against the connection's shape; raise one line naming `where` otherwise."""
        if self.pattern == "one_to_one" and n_in != n_out:
            raise SpecError(f"{where}: one_to_one needs as many inputs as neurons ({n_in} != {n_out})")
        for name in ("tie", "tie_coeff", "mask"):
            arr = getattr(self, name)
            if arr is not None and arr.shape != (n_in, n_out):
                raise SpecError(f"{where}.{name} must have shape ({n_in}, {n_out}), got {arr.shape}")
        if self.tie is not None and self.tie.max(initial=-1) < 0:
            raise SpecError(f"{where}.tie has no synapse (all entries are -1)")
        if self.sign is not None and self.sign.shape not in ((n_in,), (n_in, n_out)):
            raise SpecError(f"{where}.sign must have shape ({n_in},) or ({n_in}, {n_out}), got {self.sign.shape}")
        if isinstance(self.delay, np.ndarray) and self.delay.shape != (n_in, n_out):
            raise SpecError(f"{where}.delay must be an integer or have shape ({n_in}, {n_out})")
        if self.max_delay * n_in > MAX_DELAY_VALUES:
            raise SpecError(
                f"{where}.delay: a delay of {self.max_delay} steps on {n_in} inputs needs a buffer of more than "
                f"{MAX_DELAY_VALUES} values (longest delay x inputs)"
            )

    def weight_shape(self, n_in: int, n_out: int) -> tuple[int, ...]:
        """Shape of the evolvable weight parameter (before structure, mask and signs are applied)."""
        if self.tie is not None:
            return (int(self.tie.max()) + 1,)
        if self.pattern == "one_to_one":
            return (n_out,)
        return (n_in, n_out)

    def structure(self, n_in: int, n_out: int) -> np.ndarray:
        """Boolean [n_in, n_out]: which synapses exist (used for fan-out, SOP and MAC accounting)."""
        if self.tie is not None:
            present = self.tie >= 0
        elif self.pattern == "one_to_one":
            present = np.eye(n_in, n_out, dtype=bool)
        else:
            present = np.ones((n_in, n_out), dtype=bool)
        if self.mask is not None:
            present = present & self.mask.astype(bool)
        return present

    @property
    def max_delay(self) -> int:
        return int(np.max(self.delay))

    # --- effective weights -----------------------------------------------------------------------------------
    def effective(self, raw: torch.Tensor, n_in: int, n_out: int) -> torch.Tensor:
        """Map raw parameters [P, *weight_shape] to effective weights [P, n_in, n_out] (structure, mask, signs)."""
        dtype = raw.dtype
        if self.tie is not None:
            index = torch.as_tensor(np.where(self.tie < 0, 0, self.tie))
            coeff = (self.tie >= 0).astype(np.float64)
            if self.tie_coeff is not None:
                coeff = coeff * self.tie_coeff
            weights = raw[:, index] * torch.as_tensor(coeff, dtype=dtype)
        elif self.pattern == "one_to_one":
            weights = torch.diag_embed(raw)
        else:
            weights = raw
        if self.mask is not None:
            weights = weights * torch.as_tensor(self.mask, dtype=dtype)
        if self.sign is not None:
            sign = self.sign if self.sign.ndim == 2 else np.repeat(self.sign[:, None], n_out, axis=1)
            sign_t = torch.as_tensor(sign)
            weights = torch.where(
                sign_t > 0, weights.clamp(min=0.0), torch.where(sign_t < 0, weights.clamp(max=0.0), weights)
            )
        return weights

    # --- serialization -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pattern": self.pattern}
        for name in ("tie", "tie_coeff", "mask", "sign"):
            arr = getattr(self, name)
            if arr is not None:
                out[name] = arr.tolist()
        out["delay"] = self.delay if isinstance(self.delay, int) else self.delay.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Connection:
        if not isinstance(data, dict):
            raise SpecError(f"{where} must be a mapping, got {type(data).__name__}")
        unknown = set(data) - {"pattern", "tie", "tie_coeff", "mask", "sign", "delay"}
        if unknown:
            raise SpecError(f"{where} has unknown field(s): {', '.join(sorted(unknown))}")
        try:
            return cls(**data)
        except SpecError as exc:
            raise SpecError(f"{where}: {exc}") from None
        except (TypeError, ValueError) as exc:
            raise SpecError(f"{where}: {exc}") from None
