"""Open-loop mimicry: the controller's output on recorded input sequences against target outputs.

Dataset (.npz, loaded without pickle): train_inputs [S, T, n_in], train_targets [S, T, n_out], test_inputs
[S', T', n_in], test_targets [S', T', n_out]. Each generation scores every individual on ONE training
sequence, drawn from (run seed, generation) (as Burgers et al. do against overfitting); the driver sends
it to the workers as plain arrays; the run's champion is chosen by the loss over all training sequences
(`selection_loss`), and the held-out test sequences are only reported. Losses per sequence and output over
the steps after `warmup`, then averaged: mae_pearson = MAE + (1 - pearson) (the paper's), mse, mae. A constant
output or target has pearson 0. Population x sequences run as one batch of P * S copies in one compiled
rollout.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from numpy.lib.npyio import NpzFile

from evolution.config import MimicryConfig
from evolution.errors import ConfigError
from evolution.fitness.objectives import energy_objectives
from evolution.rng import derive_seed
from snncontrol.energy import energy_report
from snncontrol.errors import first_line
from snncontrol.network import Network, Params
from snncontrol.spec import NetworkSpec

DATASET_KEYS = ("train_inputs", "train_targets", "test_inputs", "test_targets")
MAX_VALUE = 1e15  # largest |value| in a dataset: its squares and sums stay finite in float64


def _pearson(u: np.ndarray, target: np.ndarray) -> np.ndarray:
    du = u - u.mean(axis=-1, keepdims=True)
    dt = target - target.mean(axis=-1, keepdims=True)
    denom = np.sqrt((du**2).sum(axis=-1) * (dt**2).sum(axis=-1))
    return np.divide((du * dt).sum(axis=-1), denom, out=np.zeros_like(denom), where=denom > 0)


#: loss(u, target) over the last axis (time) -> per (..., sequence, output)
LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mae_pearson": lambda u, t: np.abs(u - t).mean(axis=-1) + (1.0 - _pearson(u, t)),
    "mse": lambda u, t: ((u - t) ** 2).mean(axis=-1),
    "mae": lambda u, t: np.abs(u - t).mean(axis=-1),
}


def load_dataset(path: str, spec: NetworkSpec) -> dict[str, np.ndarray]:
    """Read and validate the dataset; a ConfigError line names the problem."""
    where = f"fitness.dataset {path}"
    if not Path(path).is_file():
        raise ConfigError(f"{where}: no such file")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, NpzFile):  # (a .npy renamed: a TypeError traceback at the `with`)
            raise ConfigError(f"{where}: one array (.npy), not an .npz of the named arrays {', '.join(DATASET_KEYS)}")
        with loaded as npz:
            data = {key: np.asarray(npz[key], dtype=np.float64) for key in DATASET_KEYS if key in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:  # (a truncated or empty file: a traceback)
        raise ConfigError(f"{where}: not a readable .npz without pickled objects ({first_line(exc)})") from None
    missing = [key for key in DATASET_KEYS if key not in data]
    if missing:
        raise ConfigError(f"{where}: missing array(s) {', '.join(missing)}")
    for split in ("train", "test"):
        inputs, targets = data[f"{split}_inputs"], data[f"{split}_targets"]
        if inputs.ndim != 3 or inputs.shape[2] != spec.n_inputs or inputs.shape[0] < 1:
            raise ConfigError(f"{where}: {split}_inputs must be [S, T, {spec.n_inputs}], got {inputs.shape}")
        if targets.shape != (*inputs.shape[:2], spec.n_outputs):
            expected = f"[{inputs.shape[0]}, {inputs.shape[1]}, {spec.n_outputs}]"
            raise ConfigError(f"{where}: {split}_targets must be {expected}, got {targets.shape}")
        if not (np.isfinite(inputs).all() and np.isfinite(targets).all()):
            raise ConfigError(f"{where}: {split} arrays hold NaN or infinite values")
        largest = max(np.abs(inputs).max(initial=0.0), np.abs(targets).max(initial=0.0))
        if largest > MAX_VALUE:  # (1e300 scored every genome the worst)
            raise ConfigError(f"{where}: {split} arrays hold values beyond +-{MAX_VALUE:g}, which overflow the losses")
    return data


class MimicryFitness:
    def __init__(self, cfg: MimicryConfig, spec: NetworkSpec, seed: int) -> None:
        self.cfg, self.seed = cfg, seed
        self.net = Network(spec)
        self.loss = LOSSES[cfg.loss]

    @cached_property
    def dataset(self) -> dict[str, np.ndarray]:
        """Loaded on the driver only (workers receive the generation's sequence with each task)."""
        data = load_dataset(self.cfg.dataset, self.net.spec)
        for split in ("train", "test"):
            if data[f"{split}_inputs"].shape[1] <= self.cfg.warmup:
                raise ConfigError(f"fitness.warmup ({self.cfg.warmup}) must be shorter than the {split} sequences")
        return data

    def digest(self) -> str:
        """sha256 of the dataset's arrays and shapes: a run cannot be resumed on changed data."""
        digest = hashlib.sha256()
        for key in DATASET_KEYS:
            digest.update(f"{key}{self.dataset[key].shape}".encode() + self.dataset[key].tobytes())
        return digest.hexdigest()

    def generation_data(self, generation: int) -> dict[str, np.ndarray]:
        """The generation's training sequence: inputs [1, T, n_in], targets [1, T, n_out]."""
        count = self.dataset["train_inputs"].shape[0]
        index = int(np.random.default_rng(derive_seed(self.seed, generation)).integers(count))
        return {
            "inputs": self.dataset["train_inputs"][index : index + 1],
            "targets": self.dataset["train_targets"][index : index + 1],
        }

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        """genomes [P, D] on sequences inputs [S, T, n_in] vs targets [S, T, n_out] -> objectives [P, M]."""
        scores = self._scores(genomes, data["inputs"], data["targets"])
        return np.stack([scores[name] for name in self.cfg.objectives], axis=1)

    def selection_data(self) -> dict[str, np.ndarray]:
        """Every training sequence (inputs [S, T, n_in], targets [S, T, n_out]): the data the run picks its results
        on (the champion by `selection_loss`, and each Pareto front member's `selection_` values)."""
        return {"inputs": self.dataset["train_inputs"], "targets": self.dataset["train_targets"]}

    def test_loss(self, genome: np.ndarray) -> float:
        """The loss of one genome [D] averaged over the held-out test set."""
        return self._loss(genome, "test")

    def selection_loss(self, genome: np.ndarray) -> float:
        """The loss of one genome [D] averaged over every training sequence: how the run picks its champion
        (a generation's scores come from one sequence each, so they are not comparable across generations)."""
        return self._loss(genome, "train")

    def _loss(self, genome: np.ndarray, split: str) -> float:
        scores = self._scores(genome[None], self.dataset[f"{split}_inputs"], self.dataset[f"{split}_targets"])
        return float(scores["loss"][0])

    def _scores(self, genomes: np.ndarray, inputs: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
        """Every objective [P], each averaged over the S sequences (and outputs, for the loss)."""
        batch, sequences = genomes.shape[0], inputs.shape[0]
        params = self.net.params(genomes)
        if sequences > 1:
            params = Params(*(t.repeat_interleave(sequences, dim=0) for t in params))  # p * S + s
        xs = torch.as_tensor(np.tile(inputs.transpose(1, 0, 2), (1, batch, 1)), dtype=self.net.dtype)
        outs, state = self.net.rollout(params, xs, self.net.init_state(batch * sequences))
        u = outs.double().numpy().reshape(outs.shape[0], batch, sequences, -1)[self.cfg.warmup :]  # [T, P, S, o]
        target = np.broadcast_to(targets.transpose(1, 0, 2)[self.cfg.warmup :, None], u.shape)
        loss = self.loss(np.moveaxis(u, 0, -1), np.moveaxis(target, 0, -1))  # [P, S, o]
        energy = energy_objectives(energy_report(self.net, state))
        return {"loss": loss.mean(axis=(1, 2))} | {
            name: value.reshape(batch, sequences).mean(axis=1) for name, value in energy.items()
        }
