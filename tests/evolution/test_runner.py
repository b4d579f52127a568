"""What a run reports and keeps: the champion it saved in best/ (not the last generation's best), its Pareto front
when interrupted, a champion chosen over a broken seed, failures ranked below every finite score and kept out of the
hall of fame, a run in which every evaluation failed, a champion that failed one of its objectives."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from evo_support import blimp_config, interrupted_run, logbook, run, sphere_config

from evolution import checkpoint, loop
from evolution.config import parse_config
from evolution.errors import EvaluationError
from evolution.loop import FAILED_SCORE, scores
from evolution.run_dir import non_dominated
from evolution.runner import Experiment
from snncontrol.artifacts import read_artifact, save_controller


def test_the_run_summary_reports_the_champion_saved_in_best_not_the_last_generation(tmp_path):
    """On a run whose last generation did worse than its champion (which seed gives one depends on the numerical
    libraries: the first of a few that does)."""
    for seed in range(3, 13):
        config = {**sphere_config({"name": "cmaes", "population": 6}, generations=10), "seed": seed}
        experiment = run(config, tmp_path / str(seed))
        champion = read_artifact(tmp_path / str(seed) / "best")[2].fitness
        assert experiment.summary().endswith(f"best {champion}")
        if float(logbook(tmp_path / str(seed))[-1]["best"]) != champion:
            return
    pytest.fail("no seed in 3..12 gave a run whose last generation did worse than its champion")


def test_an_interrupted_multi_objective_run_keeps_its_pareto_front(tmp_path):
    """The front (NSGA-II's result) was written only every plot_every generations and at the end: a run stopped
    by Ctrl-C before that had best/ and checkpoints but no front."""
    data = sphere_config({"name": "nsga2", "mu": 8}, generations=20, centers=[0.3, 0.7])
    interrupted_run(data, tmp_path, after_evaluations=4)
    assert len(logbook(tmp_path)) == 3 and (tmp_path / "pareto" / "front.csv").is_file()


def test_a_seed_controller_whose_selection_loss_is_not_finite_loses_to_any_finite_one(tmp_path):
    """A seed whose validation flight broke (NaN) crashed the first checkpoint (NaN in best/'s metadata) and would
    have stayed the champion for ever (nothing is < NaN)."""
    seed = tmp_path / "seed"
    experiment = run(sphere_config({"name": "cmaes", "population": 6}, generations=2), seed)
    spec, genome, _, io = read_artifact(seed / "best")
    save_controller(tmp_path / "artifact", spec, genome, io=io)
    data = sphere_config({"name": "cmaes", "population": 6, "sigma": 0.05}, generations=2)
    data["network"] = {"artifact": str(tmp_path / "artifact")}
    experiment = Experiment(parse_config(data), tmp_path / "run", quiet=True)
    experiment.fitness.selection_loss = lambda g: float("nan") if np.array_equal(g, genome) else float(np.sum(g**2))
    experiment.run()
    _, best, metadata, _ = read_artifact(tmp_path / "run" / "best")
    assert not np.array_equal(best, genome) and np.isfinite(metadata.extra["selection_loss"])


def test_finite_scores_beyond_the_failure_score_still_rank_above_a_failure():
    finite, failed = scores([5e30], [-1.0]), scores([float("nan")], [-1.0])
    assert finite[0] < failed[0] == FAILED_SCORE  # minimized: an absurd finite value still beats a failure
    assert scores([-5e30], [1.0])[0] > scores([float("inf")], [1.0])[0]


def test_a_run_killed_while_writing_its_first_checkpoint_is_started_again(tmp_path, monkeypatch):
    """Its logbook was written before the checkpoint: the attempt read as a finished run whose checkpoints were
    deleted, and the directory was refused for good."""
    data = sphere_config({"name": "cmaes", "population": 6}, generations=2)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, "save", killed)
    with pytest.raises(KeyboardInterrupt):
        run(data, tmp_path)
    monkeypatch.undo()
    run(data, tmp_path)  # started again
    assert len(logbook(tmp_path)) == 2


def _nan_nsga2(generations: int, **kwargs: object) -> dict:
    """NSGA-II on two spheres of which faulty:make_nan fails every evaluation (`columns`: those objectives only)."""
    data = sphere_config({"name": "nsga2", "mu": 8}, generations=generations, centers=[0.3, 0.7])
    data["fitness"] = {"kind": "custom", "factory": "faulty:make_nan", "objectives": ["a", "b"],
                       "kwargs": {"above": -1.0, "centers": [0.3, 0.7], **kwargs}}
    return data


def _experiment(data: dict, run_dir: Path) -> Experiment:
    return Experiment(parse_config(data, allow_import=("faulty",)), run_dir, quiet=True)


def test_a_run_in_which_every_evaluation_failed_ends_in_one_line_and_its_checkpoints_resume(tmp_path):
    """It ended with exit status 0 and "best None", an arbitrary failure saved as best/, and a Pareto front that
    grew by the population every generation (equal failures dominate none of each other)."""
    experiment = _experiment(_nan_nsga2(2), tmp_path)
    message = f"every one of the 16 evaluations of {tmp_path} failed (NaN or infinite objective values"
    with pytest.raises(EvaluationError, match=re.escape(message)):
        experiment.run()
    assert len(experiment.state.hall_of_fame) == 0
    assert not (tmp_path / "best").exists() and not (tmp_path / "pareto").exists()
    rows = logbook(tmp_path)
    assert [(row["failed"], row["front_size"], row["mean"]) for row in rows] == [("8", "0", "nan")] * 2
    with pytest.raises(EvaluationError, match="every one of the 24 evaluations"):  # resumed, extended, no better
        run(_nan_nsga2(3), tmp_path, resume=True)
    assert len(logbook(tmp_path)) == 3


def test_a_fine_tuning_in_which_every_evaluation_failed_writes_no_best_though_it_has_a_selection_loss(tmp_path):
    """The selection loss (finite on its own data) picked a failed individual, or kept the seed, and best/ was
    written ("evolved by snncontrol evolve") before the run said that nothing was evolved."""
    run(sphere_config({"name": "cmaes", "population": 6}, generations=1), tmp_path / "first")
    spec, genome, _, io = read_artifact(tmp_path / "first" / "best")
    save_controller(tmp_path / "artifact", spec, genome, io=io)
    data = sphere_config({"name": "cmaes", "population": 6}, generations=2)
    data["network"] = {"artifact": str(tmp_path / "artifact")}
    data["fitness"] = {"kind": "custom", "factory": "faulty:make_nan_with_selection", "objectives": ["sphere"],
                       "kwargs": {"above": -1.0}}
    experiment = _experiment(data, tmp_path / "run")
    with pytest.raises(EvaluationError, match="every one of the 12 evaluations"):
        experiment.run()
    assert not (tmp_path / "run" / "best").exists()
    assert experiment.state.selected is not None and np.allclose(  # the seed: no failure was picked
        experiment.problem.to_genome(np.asarray([experiment.state.selected]))[0], genome)


def test_a_checkpoint_whose_hall_of_fame_holds_failures_resumes_without_them(tmp_path, monkeypatch):
    """Checkpoints written before failures were left out of the hall of fame hold them while nothing scored."""
    monkeypatch.setattr(loop, "scored", lambda values: np.ones(np.shape(values), dtype=bool))  # as they were
    run(_nan_nsga2(2), tmp_path)
    monkeypatch.undo()
    assert len(np.load(tmp_path / "pareto" / "front.npz")["objectives"]) == 16  # every failure
    experiment = _experiment(_nan_nsga2(3), tmp_path)
    with pytest.raises(EvaluationError):
        experiment.run(resume=True)
    assert len(experiment.state.hall_of_fame) == 0


def test_a_champion_that_failed_one_objective_keeps_the_others_in_their_places(tmp_path):
    """Its failed objective was left out and the next moved up: b's value was reported as the fitness, under a."""
    experiment = run(_nan_nsga2(2, columns=[0]), tmp_path)
    champion = max(experiment.state.hall_of_fame, key=lambda ind: ind.fitness.wvalues[0])
    metadata = read_artifact(tmp_path / "best")[2]
    assert metadata.fitness is None  # (an artifact's fitness holds finite numbers only)
    assert metadata.extra["objective_values"] == [None, champion.fitness.values[1]]
    assert experiment.summary().endswith("best None")


def test_a_pareto_front_is_scored_on_the_fixed_selection_episodes_once_per_member(tmp_path):
    """Each generation flies new episodes, so the front's own values come from different plants and a member that
    was lucky once stays on it; the front now also carries every member's values on the validation episodes (the
    data the champion is chosen on), each member flown there once, and which members no other dominates there."""
    data = blimp_config(generations=3, objectives=["tracking_error", "energy"],
                        strategy={"name": "nsga2", "mu": 8}, output={"checkpoint_every": 1, "plot_every": 1000})
    data["fitness"]["validation_episodes"] = 2
    experiment = Experiment(parse_config(data), tmp_path, quiet=True)
    fitness = experiment.fitness
    evaluate, selection_loss, flown, choosing = fitness.evaluate, fitness.selection_loss, [], []
    selection_seeds = fitness.selection_data()["seeds"]

    def counted(genomes, data):
        if np.array_equal(data["seeds"], selection_seeds) and not choosing:  # (not the champion's loss)
            flown.extend(map(tuple, genomes))
        return evaluate(genomes, data)

    def champion_loss(genome):
        choosing.append(1)
        try:
            return selection_loss(genome)
        finally:
            choosing.pop()

    fitness.evaluate, fitness.selection_loss = counted, champion_loss
    experiment.run()
    with np.load(tmp_path / "pareto" / "front.npz", allow_pickle=False) as npz:
        genomes, own, chosen, front = (npz[k] for k in ("genomes", "objectives", "selection_objectives",
                                                         "selection_front"))
    fresh = Experiment(parse_config(data), tmp_path / "again", quiet=True).fitness
    np.testing.assert_allclose(chosen, fresh.evaluate(genomes, fresh.selection_data()), rtol=1e-12)
    assert not np.allclose(chosen[:, 0], own[:, 0])  # other episodes than the generations'
    assert len(flown) == len(set(flown)) >= len(genomes)  # each member once, over three writes of the front
    assert np.array_equal(front, non_dominated(chosen, experiment.weights)) and front.any()
    header = (tmp_path / "pareto" / "front.csv").read_text().splitlines()[0]
    assert header == ("index,tracking_error,energy,selection_tracking_error,selection_energy,selection_front")


def test_non_dominated_rows_follow_each_objectives_direction_and_leave_failures_out():
    values = np.array([[1.0, 5.0], [2.0, 6.0], [1.0, 4.0], [np.nan, 9.0], [0.5, 3.0]])
    # minimize the first, maximize the second: (2, 6) is the worst first value but the best finite second
    assert non_dominated(values, (-1.0, 1.0)).tolist() == [True, True, False, False, True]
    assert non_dominated(values, (-1.0, -1.0)).tolist() == [False, False, False, False, True]
