"""Crash-safe checkpoints: SIGKILL at a random generation + resume == an uninterrupted run, bit for bit."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from evo_support import best_genome, blimp_config, interrupted_run, latest_generation, logbook, run, sphere_config

from evolution.errors import ResumeError

CMAES = {"name": "cmaes", "population": 10}


def _final_checkpoint(run_dir: Path) -> dict[str, np.ndarray]:
    generation = latest_generation(run_dir)
    with np.load(run_dir / "checkpoints" / f"gen_{generation:06d}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.mark.parametrize(
    ("strategy", "checkpoint_every"),
    [(CMAES, 1), ({**CMAES, "covariance": "diagonal"}, 3), ({"name": "nsga2", "mu": 8}, 1)],
    ids=["cmaes", "sep-cmaes-every-3", "nsga2"],
)
def test_sigkill_then_resume_is_bit_identical(strategy, checkpoint_every, tmp_path):
    generations = 60
    centers = [0.3] if strategy["name"] == "cmaes" else [0.3, 0.6]
    data = sphere_config(strategy, generations=generations, centers=centers)
    data["output"]["checkpoint_every"] = checkpoint_every
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(data))
    killed, reference = tmp_path / "killed", tmp_path / "reference"
    kill_at = random.Random().randint(2, 20)
    command = [sys.executable, "-m", "snncontrol.cli", "evolve", str(config), "--run-dir", str(killed), "--quiet"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while latest_generation(killed) < kill_at and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    stopped = latest_generation(killed)
    assert 0 < stopped < generations, f"the run was not killed mid-way (generation {stopped})"
    # the run's wall clock in the checkpoint, set 1000 s on: a resumed run counts on from there, one started again
    # from generation 0 from 0 (elapsed_s is in no result the test compares)
    saved = killed / "checkpoints" / f"gen_{stopped:06d}.json"
    meta = json.loads(saved.read_text())
    meta["elapsed_s"] += 1000.0
    saved.write_text(json.dumps(meta))
    resumed = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "evolve", "--resume", str(killed), "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    run(data, reference)
    assert logbook(killed) == logbook(reference)
    # resumed, not started again: the rows of the generations before the kill are the checkpoint's, down to the
    # wall clock of the killed process (a rerun from generation 0 times them anew), and the clock runs on
    _check_continued(killed, meta["logbook"], meta["elapsed_s"])
    assert np.array_equal(best_genome(killed), best_genome(reference))
    final, expected = _final_checkpoint(killed), _final_checkpoint(reference)
    assert final.keys() == expected.keys()
    for key in final:
        assert np.array_equal(final[key], expected[key], equal_nan=True), key


def _check_continued(run_dir: Path, checkpointed: list[dict], clock: float) -> None:
    """run_dir's logbook continues the rows of the checkpoint it was resumed from, elapsed_s included, and the
    rows after them count on from the checkpoint's clock (elapsed_s, s)."""
    rows = logbook(run_dir, drop=())
    assert len(rows) > len(checkpointed)
    assert all(float(row["elapsed_s"]) >= round(clock, 3) for row in rows[len(checkpointed):])
    assert [float(row["elapsed_s"]) for row in rows[: len(checkpointed)]] == [r["elapsed_s"] for r in checkpointed]


def _evaluated_generations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The generations the runs of this test evaluate from now on, in order (the list fills as they run)."""
    from evolution.runner import Experiment

    generations: list[int] = []
    evaluate = Experiment._evaluate

    def counted(self, backend, population, generation):
        generations.append(generation)
        return evaluate(self, backend, population, generation)

    monkeypatch.setattr(Experiment, "_evaluate", counted)
    return generations


def test_extending_generations_equals_a_longer_run(tmp_path, monkeypatch):
    evaluated = _evaluated_generations(monkeypatch)
    run(sphere_config(CMAES, generations=4), tmp_path / "a")
    before = logbook(tmp_path / "a", drop=())
    run(sphere_config(CMAES, generations=9), tmp_path / "a", resume=True)
    assert evaluated == [0, 1, 2, 3, 4, 5, 6, 7, 8]  # the first run 0..3, the resume 4..8 only
    _check_continued(tmp_path / "a", [{**row, "elapsed_s": float(row["elapsed_s"])} for row in before],
                     float(before[-1]["elapsed_s"]))
    run(sphere_config(CMAES, generations=9), tmp_path / "b")
    assert logbook(tmp_path / "a") == logbook(tmp_path / "b")
    assert len(logbook(tmp_path / "a")) == 9
    assert sorted(p.name for p in (tmp_path / "a" / "checkpoints").glob("gen_*.json")) == [
        f"gen_{g:06d}.json" for g in (7, 8, 9)
    ]


def _best_metadata(run_dir: Path) -> dict:
    """best/'s metadata without the time it was written at and the source tree's state."""
    metadata = json.loads((run_dir / "best" / "controller.json").read_text())["metadata"]
    return {key: value for key, value in metadata.items() if key not in ("created", "git_revision")}


def test_an_extended_run_chooses_the_champion_a_longer_run_chooses(tmp_path):
    """The champion is chosen on the validation episodes at the checkpoint generations (3, 6) and after the last
    one. The choice after generation 2 of the shorter run went into its checkpoint and was kept when the run was
    extended: a champion from generation 2, which the longer run never considered."""
    data = blimp_config(generations=2)
    data["fitness"]["validation_episodes"] = 2
    data["output"]["checkpoint_every"] = 3
    run(data, tmp_path / "extended")
    assert "train_loss" in logbook(tmp_path / "extended")[-1]  # chosen after generation 2: the shorter run's result
    extended = run({**data, "generations": 6}, tmp_path / "extended", resume=True)
    longer = run({**data, "generations": 6}, tmp_path / "longer")
    assert np.array_equal(best_genome(tmp_path / "extended"), best_genome(tmp_path / "longer"))
    assert extended.state.selected_loss == longer.state.selected_loss
    assert extended.state.selected.fitness.values == longer.state.selected.fitness.values
    assert logbook(tmp_path / "extended") == logbook(tmp_path / "longer")  # (the choice's train_loss taken back)
    assert _best_metadata(tmp_path / "extended") == _best_metadata(tmp_path / "longer")
    final, expected = _final_checkpoint(tmp_path / "extended"), _final_checkpoint(tmp_path / "longer")
    assert final.keys() == expected.keys()
    for key in final:
        assert np.array_equal(final[key], expected[key], equal_nan=True), key


def test_an_extended_run_with_another_checkpoint_every_chooses_on_the_new_schedule(tmp_path):
    """Generation 2, the end of a run with checkpoint_every 3, is a checkpoint generation of checkpoint_every 2:
    extended with that, the run keeps the choice made there and equals a run with checkpoint_every 2."""
    data = blimp_config(generations=2)
    data["fitness"]["validation_episodes"] = 2
    data["output"]["checkpoint_every"] = 3
    run(data, tmp_path / "extended")
    every_2 = {**data, "generations": 6, "output": {**data["output"], "checkpoint_every": 2}}
    extended = run(every_2, tmp_path / "extended", resume=True)
    reference = run(every_2, tmp_path / "reference")
    assert np.array_equal(best_genome(tmp_path / "extended"), best_genome(tmp_path / "reference"))
    assert extended.state.selected_loss == reference.state.selected_loss
    assert logbook(tmp_path / "extended") == logbook(tmp_path / "reference")
    assert _best_metadata(tmp_path / "extended") == _best_metadata(tmp_path / "reference")


def test_a_resumed_run_writes_the_best_metadata_of_an_uninterrupted_one(tmp_path):
    """best/ says when it was written (generations_done, evaluations): a resumed run wrote it again at its first
    checkpoint, stamped with that generation, though its champion had not changed."""
    data = sphere_config({"name": "ga", "mu": 2, "lambda": 2, "tournament": 100}, generations=6)
    interrupted_run(data, tmp_path / "resumed", after_evaluations=3)
    assert latest_generation(tmp_path / "resumed") == 2
    run(data, tmp_path / "resumed", resume=True)
    run(data, tmp_path / "uninterrupted")
    assert logbook(tmp_path / "resumed") == logbook(tmp_path / "uninterrupted")
    expected = _best_metadata(tmp_path / "uninterrupted")
    assert expected["extra"]["generations_done"] < 3  # written before the interruption: its champion stayed
    assert _best_metadata(tmp_path / "resumed") == expected


def test_a_checkpoint_of_an_older_version_without_the_published_champion_resumes(tmp_path):
    """Checkpoints written before `published` and `end`: the resumed run writes best/ again at its first
    checkpoint (as those versions did) and evolves as an uninterrupted run does."""
    run(sphere_config(CMAES, generations=2), tmp_path / "a")
    saved = tmp_path / "a" / "checkpoints" / "gen_000002.json"
    meta = json.loads(saved.read_text())
    assert meta.pop("published")["generation"] <= 2 and meta.pop("end") is None
    saved.write_text(json.dumps(meta))
    run(sphere_config(CMAES, generations=4), tmp_path / "a", resume=True)
    run(sphere_config(CMAES, generations=4), tmp_path / "b")
    assert logbook(tmp_path / "a") == logbook(tmp_path / "b")
    assert np.array_equal(best_genome(tmp_path / "a"), best_genome(tmp_path / "b"))


def test_a_resume_to_fewer_generations_than_done_is_refused_and_keeps_the_run(tmp_path):
    run(sphere_config(CMAES, generations=4), tmp_path / "a")
    config = (tmp_path / "a" / "config.yaml").read_text()
    with pytest.raises(ResumeError, match="has 4 generations done; --generations 3 would end it before that"):
        run(sphere_config(CMAES, generations=3), tmp_path / "a", resume=True)
    assert (tmp_path / "a" / "config.yaml").read_text() == config and len(logbook(tmp_path / "a")) == 4


def test_changed_config_is_refused_on_resume(tmp_path):
    run(sphere_config(CMAES, generations=2), tmp_path)
    changed = sphere_config({**CMAES, "sigma": 0.2}, generations=3)
    with pytest.raises(ResumeError, match="config differs"):
        run(changed, tmp_path, resume=True)
    with pytest.raises(ResumeError, match="already holds a run"):
        run(sphere_config(CMAES, generations=3), tmp_path)
    # A run setting (the backend) is not part of the experiment: resuming with it changed is fine.
    run(sphere_config(CMAES, generations=3, backend={"name": "process", "workers": 1}), tmp_path, resume=True)


def test_checkpoints_hold_no_pickle(tmp_path):
    run(sphere_config(CMAES, generations=2), tmp_path)
    arrays = _final_checkpoint(tmp_path)
    assert all(array.dtype != object for array in arrays.values())
    assert {"cma_C", "cma_centroid", "cma_B", "cma_BD", "cma_pc", "cma_ps", "rng_numpy", "rng_torch"} <= set(arrays)
    meta = json.loads((tmp_path / "checkpoints" / "gen_000002.json").read_text())
    assert {"sigma", "update_count", "lambda_"} <= set(meta["strategy"]["cma"])
    assert len(meta["config_hash"]) == 64 and len(meta["logbook"]) == 2


def _drop_array(path: Path, key: str) -> None:
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files if name != key}
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


def test_a_truncated_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, caplog, monkeypatch):
    run(sphere_config(CMAES, generations=4), tmp_path / "run")
    checkpoints = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in checkpoints.glob("gen_*.npz")) == [f"gen_{g:06d}.npz" for g in (2, 3, 4)]
    previous = json.loads((checkpoints / "gen_000003.json").read_text())
    latest = checkpoints / "gen_000004.npz"
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])
    evaluated = _evaluated_generations(monkeypatch)
    run(sphere_config(CMAES, generations=6), tmp_path / "run", resume=True)
    # from generation 3, the newest one left (not 2, the oldest kept): generations 3..5 evaluated again
    assert evaluated == [3, 4, 5]
    (warning,) = [record.getMessage() for record in caplog.records if "resuming" in record.getMessage()]
    assert " from gen_000003, skipped gen_000004: " in warning
    _check_continued(tmp_path / "run", previous["logbook"], previous["elapsed_s"])
    run(sphere_config(CMAES, generations=6), tmp_path / "reference")
    assert logbook(tmp_path / "run") == logbook(tmp_path / "reference")
    assert np.array_equal(best_genome(tmp_path / "run"), best_genome(tmp_path / "reference"))


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda meta: meta["logbook"].__setitem__(0, {}), "one row per generation"),  # a KeyError once the run ended
    (lambda meta: meta["strategy"]["cma"].__setitem__("dim", -1), "cma dim must be"),  # a ZeroDivisionError
    (lambda meta: meta["strategy"]["cma"].__setitem__("sigma", -1.0), "cma sigma must be > 0"),  # taken silently
])
def test_a_checkpoint_whose_logbook_or_strategy_does_not_fit_is_skipped(tmp_path, caplog, damage, reason):
    run(sphere_config(CMAES, generations=4), tmp_path / "run")
    latest = tmp_path / "run" / "checkpoints" / "gen_000004.json"
    meta = json.loads(latest.read_text())
    damage(meta)
    latest.write_text(json.dumps(meta))
    run(sphere_config(CMAES, generations=5), tmp_path / "run", resume=True)
    (warning,) = [record.getMessage() for record in caplog.records if "resuming" in record.getMessage()]
    assert " from gen_000003, skipped gen_000004: " in warning and reason in warning, warning
    assert [row["gen"] for row in logbook(tmp_path / "run")] == [str(g) for g in range(5)]


def test_a_checkpoint_without_a_cma_array_is_never_resumed_from(tmp_path):
    run(sphere_config(CMAES, generations=3), tmp_path / "run")
    run(sphere_config(CMAES, generations=3), tmp_path / "reference")
    checkpoints = tmp_path / "run" / "checkpoints"
    _drop_array(checkpoints / "gen_000003.npz", "cma_B")
    run(sphere_config(CMAES, generations=5), tmp_path / "run", resume=True)
    run(sphere_config(CMAES, generations=5), tmp_path / "reference", resume=True)
    assert logbook(tmp_path / "run") == logbook(tmp_path / "reference")
    for path in checkpoints.glob("gen_*.npz"):
        _drop_array(path, "cma_B")
    with pytest.raises(ResumeError, match="lacks 'cma_B'") as error:
        run(sphere_config(CMAES, generations=6), tmp_path / "run", resume=True)
    assert "\n" not in str(error.value)


def test_a_resume_removes_the_hidden_temporaries_of_killed_writes(tmp_path):
    run(sphere_config(CMAES, generations=2), tmp_path)
    leftovers = [tmp_path / "checkpoints" / ".gen_000003.npz.k1ll3d", tmp_path / ".logbook.csv.k1ll3d"]
    for leftover in leftovers:
        leftover.write_bytes(b"half a write")
    (tmp_path / ".best.k1ll3d").mkdir()
    run(sphere_config(CMAES, generations=3), tmp_path, resume=True)
    assert sorted(p.name for p in tmp_path.rglob(".*")) == [".lock"]  # the run's lock file stays (RunDirectory.held)


def test_a_new_run_refuses_a_directory_with_stale_checkpoints(tmp_path):
    run(sphere_config(CMAES, generations=5), tmp_path)
    (tmp_path / "checkpoints" / "latest.json").unlink()
    with pytest.raises(ResumeError, match="already holds a run"):
        run(sphere_config(CMAES, generations=2), tmp_path)
    assert sorted(p.name for p in (tmp_path / "checkpoints").glob("gen_*.json")) == [
        f"gen_{g:06d}.json" for g in (3, 4, 5)
    ]


def test_a_nan_score_never_becomes_the_champion_and_the_run_resumes(tmp_path):
    """A plant that blows up scores NaN: it counts as the worst score (DEAP would rank it above every number), so
    the champion is a finite one and the checkpointed strategy history stays loadable."""
    data = sphere_config({"name": "cmaes", "population": 8, "sigma": 0.3}, generations=3)
    data["fitness"] = {"kind": "custom", "factory": "faulty:make_nan", "kwargs": {"above": 0.5},
                       "objectives": ["sphere"]}
    experiment = run(data, tmp_path / "run")
    rows = logbook(tmp_path / "run")
    assert any(int(row["failed"]) for row in rows), "no NaN was scored"
    # the failures are counted, not averaged: a mean of 1e30 / 8 said nothing of the others
    assert all(float(row[key]) < 1e29 for row in rows for key in ("mean", "median", "std"))
    last = np.array([ind.fitness.values[0] for ind in experiment.state.population])
    assert float(rows[-1]["mean"]) == last[last < 1e29].mean() and int(rows[-1]["failed"]) == np.sum(last >= 1e29)
    champion = experiment.state.hall_of_fame[0]
    assert champion[0] <= 0.5 and champion.fitness.values[0] < 1e29  # a finite score, NaN nowhere
    run({**data, "generations": 5}, tmp_path / "run", resume=True)  # the NaN-free checkpoint loads
    assert len(logbook(tmp_path / "run")) == 5


def test_a_run_directory_in_use_by_another_run_is_refused(tmp_path):
    import fcntl

    (tmp_path / "run").mkdir()
    with open(tmp_path / "run" / ".lock", "w") as other:  # another process's run holds it
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ResumeError, match="is in use by another run"):
            run(sphere_config(CMAES, generations=2), tmp_path / "run")
    run(sphere_config(CMAES, generations=2), tmp_path / "run")  # released: the run goes ahead
    assert len(logbook(tmp_path / "run")) == 2


def test_worker_kwargs_are_a_run_setting_and_the_hash_of_a_config_without_them_is_unchanged(tmp_path):
    """Physics threads per worker change no result: a run resumes with another n_threads (any other worker keyword
    stays part of the experiment). A config without
    worker_kwargs hashes as before (the hashes recorded in shipped artifacts stay valid), and a checkpoint written
    when the hash covered worker_kwargs still resumes (a run accepts the hashes of both definitions)."""
    from evolution.checkpoint import load
    from evolution.config import parse_config
    from evolution.problem import config_hash, resolve_network
    from evolution.runner import Experiment

    data = yaml.safe_load((Path(__file__).parents[2] / "configs" / "evolve_blimp_closed_loop.yaml").read_text())

    def with_env(**changes):
        env = {k: v for k, v in {**data["fitness"]["env"], **changes}.items() if v is not None}
        return parse_config({**data, "fitness": {**data["fitness"], "env": env}})

    one, two, none = with_env(worker_kwargs={"n_threads": 1}), with_env(worker_kwargs={"n_threads": 2}), with_env(
        worker_kwargs=None)
    problem = resolve_network(one.network)
    assert config_hash(one, problem) == config_hash(two, problem) == config_hash(none, problem)
    assert config_hash(one, problem, worker_kwargs=True) != config_hash(two, problem, worker_kwargs=True)
    assert config_hash(none, problem) == config_hash(none, problem, worker_kwargs=True)
    physics = with_env(worker_kwargs={"n_threads": 1, "timestep": 0.01})  # would change what the workers compute
    assert config_hash(physics, problem) != config_hash(one, problem)
    assert Experiment(two, tmp_path / "two", quiet=True).accepted_hashes == (
        config_hash(one, problem), config_hash(two, problem, worker_kwargs=True))

    run(sphere_config(CMAES, generations=2), tmp_path)
    experiment = Experiment(parse_config(sphere_config(CMAES, generations=3)), tmp_path, quiet=True)
    meta_path = tmp_path / "checkpoints" / f"gen_{latest_generation(tmp_path):06d}.json"
    meta = json.loads(meta_path.read_text())
    meta["config_hash"] = "f" * 64  # as recorded under the other definition
    meta_path.write_text(json.dumps(meta))
    args = (tmp_path / "checkpoints", experiment.state, experiment.strategy, experiment.cls)
    with pytest.raises(ResumeError, match="config differs"):
        load(*args, (experiment.hash,), experiment.problem.dim)
    assert load(*args, (experiment.hash, "f" * 64), experiment.problem.dim) == 2


def test_a_checkpoint_whose_logbook_has_no_failed_column_resumes(tmp_path):
    """Checkpoints written before the logbook's `failed` column: the resumed run leaves that cell of their rows
    empty and computes every other column as an uninterrupted run does."""
    run(sphere_config(CMAES, generations=2), tmp_path / "a")
    saved = tmp_path / "a" / "checkpoints" / "gen_000002.json"
    meta = json.loads(saved.read_text())
    meta["logbook"] = [{k: v for k, v in row.items() if k != "failed"} for row in meta["logbook"]]
    saved.write_text(json.dumps(meta))
    run(sphere_config(CMAES, generations=4), tmp_path / "a", resume=True)
    run(sphere_config(CMAES, generations=4), tmp_path / "b")
    resumed, uninterrupted = logbook(tmp_path / "a"), logbook(tmp_path / "b")
    assert [row["failed"] for row in resumed] == ["", "", "0", "0"]
    assert [{**row, "failed": ""} for row in resumed] == [{**row, "failed": ""} for row in uninterrupted]
    headers = [(path / "logbook.csv").read_text().splitlines()[0] for path in (tmp_path / "a", tmp_path / "b")]
    assert headers[0] == headers[1]  # `failed` in its place, not after elapsed_s
