"""The run directory and what a run leaves in it (every file written atomically):

config.yaml       the validated config the run was started with (what --resume reads by default)
logbook.csv       one row per generation: gen, evals, best, mean, median, std (first objective, its own
                  units; mean, median and std of the values that did not fail), failed (how many failed it: NaN or
                  +-inf), train_loss and test_loss (a fitness with a selection loss, at checkpoints), front_size
                  (multi-objective), elapsed_s (wall clock); rows of checkpoints written before `failed` have none
progress.png      best / mean / median per generation; the Pareto front for multi-objective runs
checkpoints/      see `evolution.checkpoint`
best/             the best controller (snncontrol artifact: spec, genome, I/O adapters, metadata)
pareto/           multi-objective: front.npz (genomes [K, D], objectives [K, M]) and front.csv; where the fitness
                  has fixed selection data (closed loop: validation_episodes; mimicry: every training sequence),
                  also each member's values on it (selection_objectives [K, M], csv columns selection_NAME) and
                  which members no other dominates there (selection_front)

A killed write leaves at most a hidden temporary (`.NAME.*`) beside the file; `clean_up` removes those when a
run starts or resumes.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from evolution.errors import ResumeError
from snncontrol import atomic
from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Metadata, save_controller
from snncontrol.spec import NetworkSpec

#: logbook.csv's columns in their order (see the module docstring); a run writes those its rows have
LOGBOOK_COLUMNS = ("gen", "evals", "best", "mean", "median", "std", "failed", "train_loss", "test_loss", "front_size",
                   "elapsed_s")

#: The files that mark another tool's output folder, which a run must not write into
OTHER_OUTPUTS = {"controller.json": "a controller artifact", "route.json": "a place-recognition route",
                 "ensemble.json": "a place-recognition ensemble"}

#: The first line of the config.yaml a run writes: what tells it from a user's own config file.
CONFIG_HEADER = "# written by snncontrol evolve: the validated config this run started with\n"


class RunDirectory:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.config = self.path / "config.yaml"

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the run directory for this process while it runs (an exclusive lock on RUN_DIR/.lock, released
        when the process ends however it ends): a second run into the same directory, whose checkpoints and
        champion would interleave with this one's, is refused at once."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ResumeError(f"{self.path} is in use by another run (pick another --run-dir)") from None
            yield

    def clean_up(self) -> None:
        """Remove what writes a kill cut short left here (hidden temporaries; see `atomic.clean_up`)."""
        for directory in (self.path, self.checkpoints, self.path / "pareto"):
            atomic.clean_up(directory)

    def config_text(self, data: dict[str, Any]) -> str:
        return CONFIG_HEADER + yaml.safe_dump(data, sort_keys=False)

    def write_config(self, data: dict[str, Any]) -> None:
        atomic.write_text(self.config, self.config_text(data))

    def check_fresh(self, data: dict[str, Any]) -> None:
        """Raise ResumeError where a new run (no checkpoint here) would overwrite what it did not write: a
        config.yaml no run wrote (the user's own, comments and all, where --run-dir is the config's folder), or,
        without one, another run's logbook or champion. A config.yaml a run wrote (its first line CONFIG_HEADER, or
        the very text this run writes) marks an earlier attempt that ended before its first checkpoint (killed, or
        failed at start, e.g. on another backend): started again, whatever its settings, unless a logbook says it
        checkpointed (its checkpoints deleted since). Another tool's output (a controller artifact, a route, a
        place-recognition ensemble) is refused too; other files (a log, the experiment's config and data) may sit
        beside a run."""
        for marker, what in OTHER_OUTPUTS.items():  # (a run wrote best/ and checkpoints/ into them, exit 0)
            if (self.path / marker).exists():
                raise ResumeError(f"{self.path} holds {what} ({marker}): a run would write among its files (pick "
                                  "another --run-dir)")
        theirs = self.config.read_text(encoding="utf-8", errors="replace") if self.config.is_file() else None
        headerless = yaml.safe_dump(data, sort_keys=False)  # (what runs wrote before the header)
        if theirs is not None and (theirs.startswith(CONFIG_HEADER) or theirs == headerless):
            if (self.path / "logbook.csv").exists():  # written with the first checkpoint: those were removed
                raise ResumeError(f"{self.path} holds the logbook and results of a run whose checkpoints are gone: a "
                                  "new run would overwrite them (pick another --run-dir)")
            return
        if theirs is not None:
            raise ResumeError(f"{self.path} holds a config.yaml no run wrote (yours?): a new run would "
                              "overwrite it (pick another --run-dir)")
        for name in ("logbook.csv", "best", "pareto"):
            if (self.path / name).exists():
                raise ResumeError(f"{self.path} holds {name} of another run and no checkpoint to resume: a new run "
                                  "would overwrite it (pick another --run-dir)")

    def write_logbook(self, rows: list[dict[str, Any]]) -> None:
        """logbook.csv of `rows`, its columns in the order of LOGBOOK_COLUMNS (a run resumed from a checkpoint
        written before a column existed has it in its place too), any others after them."""
        present = set().union(*rows) if rows else set()
        columns = [c for c in LOGBOOK_COLUMNS if c in present]
        columns += [c for c in dict.fromkeys(key for row in rows for key in row) if c not in LOGBOOK_COLUMNS]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic.write_text(self.path / "logbook.csv", buffer.getvalue())

    def plot(self, rows: list[dict[str, Any]], objective: str, front: np.ndarray | None, names: list[str]) -> None:
        """progress.png: best/mean/median of `objective` per generation; `front` [K, M] scattered (first two)."""
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        panels = 1 if front is None else 2
        fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4), squeeze=False)
        gens = [row["gen"] for row in rows]
        for key in ("best", "mean", "median"):
            axes[0, 0].plot(gens, [row[key] for row in rows], label=key)
        axes[0, 0].set(xlabel="generation", ylabel=objective, title="progress")
        axes[0, 0].legend()
        if front is not None:
            axes[0, 1].scatter(front[:, 0], front[:, 1], s=12)
            axes[0, 1].set(xlabel=names[0], ylabel=names[1], title=f"Pareto front ({len(front)})")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        atomic.write_bytes(self.path / "progress.png", buffer.getvalue())

    def save_best(self, spec: NetworkSpec, genome: np.ndarray, metadata: Metadata, io_adapters: IOAdapters) -> None:
        save_controller(self.path / "best", spec, genome, metadata, io_adapters)

    def save_pareto(
        self, genomes: np.ndarray, values: np.ndarray, names: list[str], weights: tuple[float, ...],
        selection: np.ndarray | None = None,
    ) -> None:
        """The front: genomes [K, D] (parameter bounds) and objective values [K, M] (`weights`: +1 maximized, -1
        minimized); with `selection` [K, M], the same members' values on the fitness's fixed selection data and
        which of them no other member dominates there (`selection_front`)."""
        arrays = {"genomes": genomes, "objectives": values, "names": np.array(names)}
        columns, rows = ["index", *names], [[i, *map(repr, map(float, row))] for i, row in enumerate(values)]
        if selection is not None:
            front = non_dominated(selection, weights)
            arrays.update(selection_objectives=selection, selection_front=front)
            columns += [f"selection_{name}" for name in names] + ["selection_front"]
            rows = [[*row, *map(repr, map(float, chosen)), int(on)]
                    for row, chosen, on in zip(rows, selection, front, strict=True)]
        atomic.write_npz(self.path / "pareto" / "front.npz", arrays)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        atomic.write_text(self.path / "pareto" / "front.csv", text.getvalue())


def non_dominated(values: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
    """[K] bool: the rows of `values` [K, M] that no other row dominates (at least as good in every objective and
    better in one, by `weights`: +1 maximized, -1 minimized); a row with a NaN objective is never among them."""
    better = np.asarray(values, dtype=np.float64) * np.asarray(weights, dtype=np.float64)  # larger is better
    finite = np.isfinite(better).all(axis=1)
    a, b = better[:, None, :], better[None, :, :]
    dominates = (a >= b).all(axis=2) & (a > b).any(axis=2)  # [i, j]: row i dominates row j
    return finite & ~(dominates & finite[:, None]).any(axis=0)
