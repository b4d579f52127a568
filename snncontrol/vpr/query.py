"""The Python API a place-recognition node uses: load an ensemble once, then match images.

    matcher = Matcher.load("ensemble/")                 # or Matcher(ensemble)
    place, confidence = matcher.query(images)           # uint8 [B, H, W] or [B, H, W, 3] (RGB)

`place` int64 [B]: the reference place index; `confidence` float32 [B] in [0, 1): 1 - 1 / s for the best
place's similarity s (its response over the mean winning response of the modules, `inference.similarity`;
0 when s <= 1), monotone in the similarity used for the precision-recall curve, so a threshold chosen on that
curve applies directly. With a single module (at most `places_per_module` places) s is always 1 and the
confidence 0. Rate pass by default (see `inference.py`: each place scored by its neuron's rate without the
module's inhibition, so every place keeps a graded score; the winners, hence the answer and its confidence,
are those of the WTA pass); mode="spiking" runs the simulated spiking network on
regular (deterministic) input spike trains for `present_ms` (default `inference.SPIKING_PRESENT_MS`), its input
synapses scaled by `input_gain` (default `inference.SPIKING_INPUT_GAIN`), and takes the place from its spike
times (`inference.spiking_responses`), mode="poisson" the same network on Poisson input: seeded by `seed`, and
fresh noise for every query (the matcher counts the queries it has answered, `queries`, and each query's draws
follow from `seed` and its number), so a new matcher with the same seed given the same calls answers the same.
"""

from __future__ import annotations

import math
import os

import numpy as np
import torch

from snncontrol.vpr import inference, module
from snncontrol.vpr.artifact import load_ensemble
from snncontrol.vpr.ensemble import Ensemble
from snncontrol.vpr.errors import DatasetError
from snncontrol.vpr.preprocess import preprocess


class Matcher:
    def __init__(
        self,
        ensemble: Ensemble,
        mode: inference.Mode = "rate",
        seed: int = 0,
        present_ms: float = inference.SPIKING_PRESENT_MS,
        input_gain: float = inference.SPIKING_INPUT_GAIN,
    ) -> None:
        if mode not in ("rate", "spiking", "poisson"):
            raise DatasetError(f"mode must be 'rate', 'spiking' or 'poisson', got {mode!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise DatasetError(f"seed must be an integer >= 0, got {seed!r}")
        if not (math.isfinite(present_ms) and present_ms > 0):
            raise DatasetError(f"present_ms must be a positive number of ms, got {present_ms}")
        if not (math.isfinite(input_gain) and input_gain > 0):
            raise DatasetError(f"input_gain must be a positive number, got {input_gain}")
        self.ensemble, self.mode, self.seed, self.present_ms = ensemble, mode, seed, present_ms
        self.input_gain = input_gain
        self.queries = 0  # images answered so far: where the next Poisson draws start
        self._live = ensemble.compact()  # answers exactly as `ensemble`, with only the neurons that can fire
        self._flat = inference._flat_weights(self._live).contiguous()

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        mode: inference.Mode = "rate",
        seed: int = 0,
        present_ms: float = inference.SPIKING_PRESENT_MS,
        input_gain: float = inference.SPIKING_INPUT_GAIN,
    ) -> Matcher:
        return cls(load_ensemble(path), mode, seed, present_ms, input_gain)

    def preprocess(self, images: np.ndarray | list[np.ndarray]) -> torch.Tensor:
        cfg = self.ensemble.module
        return torch.from_numpy(preprocess(images, cfg.image_size, cfg.patch))

    def similarity_of(self, pixels: torch.Tensor) -> torch.Tensor:
        """[B, P] similarity (dimensionless, `inference.similarity`) of preprocessed images [B, pixels]."""
        pixels = module.inputs(self.ensemble.module, pixels)
        offset, self.queries = self.queries, self.queries + len(pixels)
        if self.mode != "rate":
            encoding = "regular" if self.mode == "spiking" else "poisson"
            responses = inference.spiking_responses(
                self._live, pixels, self.seed, encoding=encoding, present_ms=self.present_ms,
                input_gain=self.input_gain, offset=offset,
            )
            return inference.similarity(self._live, responses)
        return inference.similarity(self._live, inference.rate_all(self._live, pixels, self._flat))

    def similarity(self, images: np.ndarray | list[np.ndarray]) -> torch.Tensor:
        return self.similarity_of(self.preprocess(images))

    @torch.inference_mode()
    def query(self, images: np.ndarray | list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(place index int64 [B], confidence float32 [B] in [0, 1])."""
        images = np.asarray(images) if not isinstance(images, list) else images
        if isinstance(images, np.ndarray) and (images.ndim not in (3, 4) or images.dtype != np.uint8):
            shape = list(images.shape)
            raise DatasetError(f"images must be uint8 [B, H, W] or [B, H, W, 3], got {images.dtype} {shape}")
        return self.answers(self.preprocess(images))

    @torch.inference_mode()
    def answers(self, pixels: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """`query` of preprocessed images [B, pixels] (e.g. `preprocess.normalize` of `shrink`s taken as each image
        was read, so that no full-resolution frame is kept)."""
        score, place = self.similarity_of(pixels).max(dim=1)
        return place.numpy(), (1.0 - 1.0 / score.clamp(min=1.0)).numpy().astype(np.float32)
