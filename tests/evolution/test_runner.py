"""What a finished run reports: the champion it saved in best/, not the last generation's best."""

from __future__ import annotations

from evo_support import logbook, run, sphere_config

from snncontrol.artifacts import read_artifact


def test_the_run_summary_reports_the_champion_saved_in_best_not_the_last_generation(tmp_path):
    experiment = run(sphere_config({"name": "cmaes", "population": 6}, generations=10), tmp_path)
    champion = read_artifact(tmp_path / "best")[2].fitness
    assert experiment.summary().endswith(f"best {champion}")
    assert float(logbook(tmp_path)[-1]["best"]) != champion  # the last generation did worse than the champion
