"""What a run reports and keeps: the champion it saved in best/ (not the last generation's best), its Pareto front
when interrupted, a champion chosen over a broken seed, failures ranked below every finite score."""

from __future__ import annotations

import numpy as np
import pytest
from evo_support import logbook, run, sphere_config

from evolution import checkpoint
from evolution.config import parse_config
from evolution.loop import FAILED_SCORE, scores
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
    experiment = Experiment(parse_config(data), tmp_path, quiet=True)
    evaluate, calls = experiment.fitness.evaluate, []

    def interrupted(genomes, data):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return evaluate(genomes, data)

    experiment.fitness.evaluate = interrupted  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        experiment.run()
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
