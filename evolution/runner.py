"""Wires an experiment together and runs it: problem, fitness, strategy, backend, run directory, checkpoints,
progress bar; then hands the DEAP toolbox to `loop.evolve`.

A run is reproducible from (config, seed): the driver seeds random, numpy and torch once, before anything is
built (the fitness is built from the seed's states, as each worker builds its own, `rng.seeded`), the strategy
draws from them, and every per-generation draw of the fitness is derived from (seed, generation). A resumed run
restores all of it from the latest checkpoint and continues bit for bit, best/ included. A run extended to more
generations equals a longer run: the champion chosen after its last generation, where that was no checkpoint
generation (`loop.EndOfRun`), is taken back, with its logbook fields, as if the run had not ended there.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from deap import base, tools
from tqdm import tqdm

from evolution import checkpoint, rng
from evolution.backends import Backend, build_backend
from evolution.config import ExperimentConfig, objective_names
from evolution.errors import ConfigError, EvaluationError, ResumeError
from evolution.fitness import Fitness, build_fitness
from evolution.fitness.objectives import weights
from evolution.loop import EndOfRun, Published, RunState, evolve, scored
from evolution.problem import Problem, config_hash, resolve_network, worker_config
from evolution.run_dir import RunDirectory
from evolution.strategies import build_strategy
from evolution.strategies.base import Individual, individual_class
from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Metadata
from snncontrol.seeding import seed_everything


class Experiment:
    """One run of an experiment config in `run_dir`: construct (validates everything, seeds the RNGs), then
    `run()` or `run(resume=True)`."""

    def __init__(self, config: ExperimentConfig, run_dir: str | Path, *, quiet: bool = False) -> None:
        self.config = config
        self.run_dir = RunDirectory(run_dir)
        self.quiet = quiet
        seed_everything(config.seed)  # first: a builder or a fitness that draws when it is built draws the same
        self.problem: Problem = resolve_network(config.network)
        self.names = objective_names(config.fitness)
        self.weights = weights(self.names, getattr(config.fitness, "maximize", ()))
        with rng.seeded(config.seed):  # as every worker builds its own (evolution.worker)
            self.fitness: Fitness = build_fitness(config, self.problem)
        digests = self._data_digests()
        self.hash = config_hash(config, self.problem, digests)
        #: hashes a checkpoint of this experiment may carry: this one, and the one that covered worker_kwargs
        self.accepted_hashes = (self.hash, config_hash(config, self.problem, digests, worker_kwargs=True))
        self.cls = individual_class(self.weights)
        self.strategy = build_strategy(config.strategy, self.cls, self.problem.dim, self.problem.seed_unit(),
                                       self.problem.spec_init_unit())
        multi = len(self.names) > 1
        self.state = RunState(tools.ParetoFront() if multi else tools.HallOfFame(1))
        self._written: Published | None = None  # what best/ holds
        self._selection_cache: dict[tuple[float, ...], np.ndarray] = {}  # front member -> values on selection data

    def _data_digests(self) -> dict[str, str]:
        """Digests of the data files the fitness reads (part of the config hash)."""
        digest = getattr(self.fitness, "digest", None)
        return {"data": digest()} if digest is not None else {}

    def run(self, *, resume: bool = False) -> RunState:
        """Start (or with `resume`, continue) the run and evolve until `config.generations`; the run directory is
        held by this run meanwhile (`RunDirectory.held`)."""
        # checked before the lock makes the directory too: a mistyped --resume path is not created
        if resume and not checkpoint.exists(self.run_dir.checkpoints):
            raise ResumeError(f"{self.run_dir.path} holds no checkpoint to resume from")
        with self.run_dir.held():
            return self._run(resume)

    def _run(self, resume: bool) -> RunState:
        if resume:
            if not checkpoint.exists(self.run_dir.checkpoints):  # (removed while the lock was taken)
                raise ResumeError(f"{self.run_dir.path} holds no checkpoint to resume from")
            self.run_dir.clean_up()
            checkpoint.load(self.run_dir.checkpoints, self.state, self.strategy, self.cls, self.accepted_hashes,
                            self.problem.dim)
            hall_of_fame = self.state.hall_of_fame  # (older checkpoints kept failures while nothing had scored)
            if not scored([ind.fitness.values for ind in hall_of_fame]).any():
                hall_of_fame.clear()
            if self.state.generation > self.config.generations:  # before config.yaml is rewritten with it
                raise ResumeError(f"{self.run_dir.path} has {self.state.generation} generations done; --generations "
                                  f"{self.config.generations} would end it before that (give at least "
                                  f"{self.state.generation})")
            self._written = self._target()
            if self.state.generation < self.config.generations:
                self._settle_end()
        elif checkpoint.exists(self.run_dir.checkpoints):
            raise ResumeError(f"{self.run_dir.path} already holds a run; resume it with --resume or pick another dir")
        else:
            self.run_dir.check_fresh(self.config.model_dump(mode="json", by_alias=True))
            self.run_dir.clean_up()
            self._select_seed()
        self.run_dir.write_config(self.config.model_dump(mode="json", by_alias=True))
        backend = build_backend(self.config.backend, self.fitness, worker_config(self.config, self.problem))
        toolbox = base.Toolbox()
        toolbox.register("generate", self.strategy.generate)
        toolbox.register("evaluate", self._evaluate, backend)
        toolbox.register("update", self.strategy.update)
        toolbox.register("record", self._record)
        self._bar = tqdm(
            total=self.config.generations,
            initial=self.state.generation,
            unit="gen",
            file=sys.stderr,
            disable=self.quiet or not sys.stderr.isatty(),
        )
        self._clock = (time.perf_counter(), self.state.elapsed_s)
        self._last_elapsed = self.state.elapsed_s
        try:
            evolve(toolbox, self.state, self.config.generations)
        finally:
            self._bar.close()
            backend.close()
            if hasattr(self.fitness, "close"):
                self.fitness.close()
        if self.state.logbook:
            self.run_dir.write_logbook(self.state.logbook)  # (a run stopped between its last checkpoint and this)
            self._write_outputs()
        if not self.state.hall_of_fame:
            raise EvaluationError(
                f"every one of the {self.state.evaluations} evaluations of {self.run_dir.path} failed (NaN or infinite "
                "objective values, counted in its logbook.csv): nothing was evolved; check the fitness on one "
                "controller by hand (a plant that blows up, an info key the environment does not report, a custom "
                "fitness's evaluate, settings a network.construction refuses)"
            )
        return self.state

    def _evaluate(self, backend: Backend, population: list[Individual], generation: int) -> np.ndarray:
        genomes = self.problem.to_genome(np.asarray(population, dtype=np.float64))
        built = np.isfinite(genomes).all(axis=1)  # (a construction's NaN row: settings it refused, scored NaN)
        data = self.fitness.generation_data(generation)
        values = backend.evaluate(genomes[built], data) if built.any() else np.empty((0, len(self.names)))
        try:
            values = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            values = np.empty(0)
        if values.shape != (int(built.sum()), len(self.names)):  # (a custom fitness's slip dumped a stack)
            raise ConfigError(f"the fitness returned objective values of shape {np.shape(values)} for "
                              f"{int(built.sum())} individuals: it must return [individuals, objectives] = "
                              f"[{int(built.sum())}, {len(self.names)}] numbers")
        if built.all():
            return values
        every = np.full((len(population), len(self.names)), np.nan)
        every[built] = values
        return every

    def _record(self, state: RunState) -> None:
        """Logbook row, checkpoint, outputs and progress bar after generation `state.generation - 1`. The row's
        mean, median and std are of the first objective's values that did not fail (NaN where all did), `failed`
        counts those that did."""
        first = np.array([ind.fitness.values[0] for ind in state.population])
        finite = first[scored(first)]
        best = max(state.population, key=lambda ind: ind.fitness.wvalues[0])
        state.elapsed_s = self._clock[1] + time.perf_counter() - self._clock[0]
        row: dict[str, float] = {
            "gen": state.generation - 1, "evals": state.evaluations, "best": best.fitness.values[0],
        }
        for key, statistic in (("mean", np.mean), ("median", np.median), ("std", np.std)):
            row[key] = float(statistic(finite)) if finite.size else math.nan
        row["failed"] = first.size - finite.size
        output = self.config.output
        periodic = state.generation % output.checkpoint_every == 0
        end = state.generation == self.config.generations and not periodic
        if periodic or end:
            row.update(self._select(best, end=end))
        if len(self.names) > 1:
            row["front_size"] = len(state.hall_of_fame)
        row["elapsed_s"] = round(state.elapsed_s, 3)
        state.logbook.append(row)
        if periodic:
            self._publish(replace=True)
        if state.generation % output.plot_every == 0:
            self._write_outputs()
        elif periodic or end:  # (an interrupted run kept its best/ and checkpoints but lost its front)
            self._sync_best()
            self._write_front()
        if periodic or end:
            checkpoint.save(self.run_dir.checkpoints, state, self.strategy, self.hash, output.keep_checkpoints)
            # after the checkpoint: a logbook says one was written (RunDirectory.check_fresh)
            self.run_dir.write_logbook(state.logbook)
        rate = len(state.population) / max(state.elapsed_s - self._last_elapsed, 1e-9)
        self._last_elapsed = state.elapsed_s
        self._bar.set_postfix(best=f"{row['best']:.4g}", mean=f"{row['mean']:.4g}", evals_s=f"{rate:.1f}")
        self._bar.update(1)

    def _select_seed(self) -> None:
        """A run that starts from a controller (network.artifact, or network.construction's seed settings) and
        picks its champion by a selection loss
        starts with that controller as the champion: fine-tuning never returns one that is worse on the
        selection data than what it was given."""
        selection_loss = getattr(self.fitness, "selection_loss", None)
        if selection_loss is None or self.problem.seed_genome is None:
            return
        seed = self.cls(self.problem.seed_unit())
        loss = float(selection_loss(self.problem.seed_genome))  # not finite (its flight broke): any finite one wins
        self.state.selected, self.state.selected_loss = seed, loss if math.isfinite(loss) else math.inf
        seed.fitness.values = (float("nan"),) * len(self.names)  # never scored on a generation's data

    def _select(self, best: Individual, *, end: bool = False) -> dict[str, float]:
        """Where the fitness scores each generation on different data (mimicry: one training sequence), a lucky
        individual would hold the hall of fame forever. Such a fitness has a `selection_loss` (mimicry: the mean
        loss over every training sequence): at each checkpoint generation the generation's best is scored by it,
        and the champion is the individual with the lowest selection loss so far. Returns the logbook fields:
        `train_loss` (this generation's best on all training data), `test_loss` (the champion on the held-out
        data). With `end` (the last generation, no checkpoint generation) the choice is the run's `EndOfRun`
        instead: it decides the run's result, and a run extended past it takes it back (`_settle_end`), so that
        it selects among the generations a longer run selects among."""
        fields: dict[str, float] = {}
        selected, selected_loss = self.state.selected, self.state.selected_loss
        selection_loss = getattr(self.fitness, "selection_loss", None)
        if selection_loss is not None:
            genome = self.problem.to_genome(np.asarray([best]))[0]
            loss = float(selection_loss(genome)) if np.isfinite(genome).all() else math.inf  # (refused settings)
            fields["train_loss"] = loss
            if loss < selected_loss and scored(best.fitness.values).any():  # (a failure is never picked)
                selected, selected_loss = self.cls(best), loss
                selected.fitness.values = best.fitness.values
        choice = EndOfRun(selected, selected_loss) if end else None
        if choice is not None:
            self.state.end = choice
        else:
            self.state.selected, self.state.selected_loss = selected, selected_loss
        test_loss, champion = getattr(self.fitness, "test_loss", None), self._champion()
        if test_loss is not None and champion is not None:
            fields["test_loss"] = float(test_loss(self.problem.to_genome(np.asarray([champion]))[0]))
        if choice is not None:
            choice.fields = list(fields)
        return fields

    def _settle_end(self) -> None:
        """Settle the last generation's `EndOfRun` of a run that goes on: taken back with its logbook fields,
        as if the run had not ended there, or where that generation is a checkpoint generation of the
        `checkpoint_every` the run goes on with, kept as the choice made there."""
        end = self.state.end
        if end is None:
            return
        if self.state.generation % self.config.output.checkpoint_every == 0:
            self.state.selected, self.state.selected_loss = end.selected, end.loss
            self._publish(replace=True)
        else:
            for key in end.fields:
                self.state.logbook[-1].pop(key, None)
        self.state.end = None

    # --- outputs ----------------------------------------------------------------------------------------------
    def _champion(self, *, scheduled: bool = False) -> Individual | None:
        """The best individual so far: the selected one (see `_select`; the `EndOfRun`'s at the end of a run,
        unless `scheduled`: the one chosen at the checkpoint generations), else the hall of fame's best
        (multi-objective: the front's best on the first objective); None while every evaluation failed (a seed
        controller selected before any generation included: such a run evolved nothing and writes no best/)."""
        if not self.state.hall_of_fame:
            return None
        end = None if scheduled else self.state.end
        selected = self.state.selected if end is None else end.selected
        if selected is not None:
            return selected
        return max(self.state.hall_of_fame, key=lambda ind: ind.fitness.wvalues[0])

    def _champion_values(self, champion: Individual | None = None) -> list[float | None]:
        """The objective values of `champion` (default: the run's, `_champion`), in the objectives' order, None for
        each one it failed (all of them for a seed controller that was never scored); [] without a champion."""
        champion = self._champion() if champion is None else champion
        if champion is None or not champion.fitness.valid:
            return []
        values = champion.fitness.values
        return [v if ok else None for v, ok in zip(values, scored(values), strict=True)]

    def _publish(self, *, replace: bool) -> None:
        """Make the scheduled champion (`_champion(scheduled=True)`) the one published, stamped with the
        generations and evaluations now: where none is yet, or with `replace` (a checkpoint generation) where it
        is another one. best/ follows in `_sync_best`."""
        champion, published = self._champion(scheduled=True), self.state.published
        if champion is None or (published is not None and (not replace or list(published.individual) == champion)):
            return
        self.state.published = Published(champion, self.state.selected_loss, self.state.generation,
                                         self.state.evaluations)

    def _target(self) -> Published | None:
        """What best/ is to hold: the published champion, or at the end of a run whose last generation is no
        checkpoint generation, the `EndOfRun`'s champion (as published where it is the same one)."""
        published, end, champion = self.state.published, self.state.end, self._champion()
        if end is None or champion is None or (published is not None and list(published.individual) == champion):
            return published
        return Published(champion, end.loss, self.state.generation, self.state.evaluations)

    def _sync_best(self) -> None:
        """Write best/ where it does not hold `_target()` yet."""
        target = self._target()
        if target is not None and target != self._written:
            self._save_best(target)
            self._written = target

    def summary(self) -> str:
        """One line for the end of a run: generations, evaluations and the champion's (best/'s) first objective
        (None where it failed it)."""
        values = self._champion_values()
        return (
            f"{self.run_dir.path}: {self.state.generation} generations, {self.state.evaluations} evaluations, "
            f"best {values[0] if values else None}"
        )

    def _save_best(self, published: Published) -> None:
        champion = published.individual
        values = self._champion_values(champion)
        numbers = [v for v in values if v is not None]
        # fitness: None for the seed artifact, or a champion that failed an objective (an artifact's fitness holds
        # finite numbers only: its values by position, null for the failed ones, are extra.objective_values)
        complete = bool(values) and len(numbers) == len(values)
        metadata = Metadata(
            seed=self.config.seed,
            fitness=(numbers[0] if len(numbers) == 1 else numbers) if complete else None,
            description=f"evolved by snncontrol evolve ({self.config.name})",
            extra={
                "objectives": self.names,
                **({"objective_values": values} if 0 < len(numbers) < len(values) else {}),
                "strategy": self.config.strategy.name,
                "generations_done": published.generation,  # when best/ was written, not the champion's generation
                "evaluations": published.evaluations,
                "config_hash": self.hash,
                **({"selection_loss": published.loss} if math.isfinite(published.loss) else {}),
                **self._construction_settings(champion),
            },
        )
        genome = self.problem.to_genome(np.asarray([champion]))[0]
        self.run_dir.save_best(self.problem.spec, genome, metadata, self._io())

    def _construction_settings(self, champion: Individual) -> dict[str, Any]:
        """{"construction": its builder, fixed keywords and the champion's settings} where the run evolves a
        construction's settings (the champion's genome is what the construction builds from them), else {}."""
        construction = self.problem.construction
        if construction is None:
            return {}
        return {"construction": {"builder": construction.builder, "fixed": dict(construction.fixed),
                                 "settings": construction.settings(np.asarray(champion, dtype=np.float64))}}

    def _io(self) -> IOAdapters:
        """The adapters stored with the champion: the fitness config's, else those of a fitness that knows its
        network's plant (swimmer_bodies: the NCAP's own body), else the seed artifact's, else identity."""
        io = getattr(self.config.fitness, "io", None)
        if io is not None:
            return IOAdapters.from_dict(io)
        own = getattr(self.fitness, "io", None)
        return own if isinstance(own, IOAdapters) else self.problem.io or IOAdapters()

    def _write_front(self) -> np.ndarray | None:
        """pareto/ of a multi-objective run (its result, beside best/); returns the front's values [K, M] (None
        while the front is empty: every evaluation failed)."""
        if len(self.names) == 1 or not self.state.hall_of_fame:
            return None
        members = list(self.state.hall_of_fame)
        front = np.array([ind.fitness.values for ind in members])
        genomes = self.problem.to_genome(np.asarray(members))
        self.run_dir.save_pareto(genomes, front, self.names, self.weights, self._selection_values(members, genomes))
        return front

    def _selection_values(self, members: list[Individual], genomes: np.ndarray) -> np.ndarray | None:
        """The front members' objective values [K, M] on the fitness's fixed selection data (`selection_data`: the
        closed loop's validation episodes, mimicry's every training sequence), None where it has none. Where each
        generation scores on other data (new episodes, another sequence), the front's own values come from
        different data, and a member that was lucky once stays on it: these are comparable. Each member is
        scored once, alone (in this process, as the champion's selection loss is: a batch of every new member
        built a vector env of its own size, kept by the fitness, at each checkpoint)."""
        selection_data = getattr(self.fitness, "selection_data", None)
        data = selection_data() if selection_data is not None else None
        if data is None:
            return None
        for member, genome in zip(members, genomes, strict=True):
            if tuple(member) not in self._selection_cache:
                values = self.fitness.evaluate(genome[None], data)
                self._selection_cache[tuple(member)] = np.asarray(values, dtype=np.float64)[0]
        kept = {tuple(member) for member in members}  # (members that left the front are forgotten)
        self._selection_cache = {key: row for key, row in self._selection_cache.items() if key in kept}
        return np.array([self._selection_cache[tuple(member)] for member in members])

    def _write_outputs(self) -> None:
        """best/ (publishing the champion where none is yet), pareto/ and progress.png."""
        self._publish(replace=False)
        self._sync_best()
        front = self._write_front()
        self.run_dir.plot(self.state.logbook, self.names[0], front, self.names)
