"""`snncontrol evolve`: bad configs give one line, the example configs validate, a run leaves its outputs."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import yaml
from evo_support import TINY_NET, sphere_config

from evolution import loopback
from evolution.backends import LOCAL_RAY_LISTENS_EVERYWHERE, RayBackend
from evolution.config import load_config
from evolution.problem import resolve_network
from snncontrol.artifacts import read_artifact, save_controller
from snncontrol.cli import main
from snncontrol.controllers import resolve

CONFIGS = sorted(Path(__file__).parents[2].joinpath("configs").glob("evolve_*.yaml"))


def _evolve(tmp_path: Path, data, *args: str) -> int:
    path = tmp_path / "config.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return main(["evolve", str(path), "--quiet", "--run-dir", str(tmp_path / "run"), *args])


GOOD = sphere_config({"name": "cmaes", "population": 6}, generations=2)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"strategy": {"name": "cmaes", "popsize": 4}}, "strategy.cmaes.popsize: unknown field"),
        ({"strategy": {"name": "annealing"}}, "strategy: Input tag 'annealing' found using 'name' does not match"),
        ({"strategy": {"name": "nsga2", "mu": 8}}, "strategy nsga2 needs two or more fitness objectives"),
        ({"strategy": {"name": "nsga2", "mu": 10}}, "strategy.nsga2.mu: Value error, must be a multiple of 4"),
        ({"strategy": {"name": "cmaes", "sigma": -1}}, "strategy.cmaes.sigma: Input should be greater than or equal"),
        ({"generations": "many"}, "generations: Input should be a valid integer"),
        ({"network": {"builder": "nowhere.mod:f"}}, "network.builder: 'nowhere.mod:f' is not a registered builder"),
        ({"seed": 2**70}, "seed: Input should be less than or equal to 4294967295"),
        ({"seed": True}, "seed: must be an integer, not true"),  # (it ran with seed 1)
        # a YAML true or false where a number belongs ran as 1 or 0
        ({"generations": True}, "config.yaml: generations: must be an integer, not true"),
        ({"output": {"checkpoint_every": True}}, "output.checkpoint_every: must be an integer, not true"),
        ({"output": {"plot_every": True}}, "output.plot_every: must be an integer, not true"),
        ({"backend": {"name": "process", "workers": True}}, "backend.workers: must be an integer, not true"),
        ({"backend": {"name": "process", "max_retries": False}}, "backend.max_retries: must be an integer, not false"),
        ({"strategy": {"name": "cmaes", "population": True}}, "strategy.cmaes.population: must be an integer, not"),
        ({"strategy": {"name": "cmaes", "sigma": True}}, "strategy.cmaes.sigma: must be a number, not true"),
        ({"fitness": {"kind": "sphere", "centers": [True]}}, "fitness.sphere.centers.0: must be a number, not true"),
        ({"fitness": {"kind": "closed_loop", "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 5,
                                                     "episodes": True}}},
         "fitness.closed_loop.env.episodes: must be an integer, not true"),
        # settings the backend does not use (they did nothing)
        ({"backend": {"name": "serial", "workers": 4}}, "backend: workers sizes a process pool or Ray tasks: the "
                                                         "serial backend evaluates in the driver"),
        ({"backend": {"name": "serial", "address": "10.0.0.1:6379"}}, "backend: address names a Ray cluster to "
                                                                        "join: the serial backend joins none"),
        ({"backend": {"name": "process", "address": "auto"}}, "backend: address names a Ray cluster to join: the "
                                                                "process backend joins none"),
        (
            {"strategy": {"name": "cmaes", "population": 1e7}},
            "population: Input should be less than or equal to 100000",
        ),
        (
            {"network": {"builder": "blimp.pd_snn", "kwargs": {"n_pairs": -3}}},
            "network: n_pairs and n_hidden must be positive integers, got -3 and 59",
        ),
        (
            {"network": {"builder": "blimp.pd_snn", "kwargs": {"hidden": "nope"}}},
            "network.kwargs.hidden should be 'lif', 'rlif', 'iwta' or 'riwta', got 'nope'",
        ),
        ({"network": {"spec": {"version": 1, "n_inputs": 0, "layers": []}}}, "network: n_inputs must be a positive"),
        (  # (an IndexError traceback from inside the encoding)
            {"network": {"builder": "paired_lif_readout", "kwargs": {"n_inputs": 0}}},
            "network: n_inputs must be a positive integer, got 0",
        ),
        ({"network": {"artifact": "/nonexistent/ctrl"}}, "network: artifact /nonexistent/ctrl: not found"),
        ({"network": {**TINY_NET, "spec": {}}}, "network: give exactly one of builder, spec, artifact"),
        (
            {
                "fitness": {
                    "kind": "closed_loop",
                    "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 5},
                    "io": {"observation": {"kind": "magic"}},
                }
            },
            "fitness.closed_loop.io: observation adapter kind",
        ),
        ({"fitness": {"kind": "closed_loop", "env": {"id": "NoSuchEnv-v9", "episode_steps": 5}}}, "fitness.env.id"),
        ({"fitness": {"kind": "mimicry", "dataset": "/nonexistent.npz"}}, "fitness.dataset /nonexistent.npz: no such"),
        ({"backend": {"name": "gpu"}}, "backend.name: Input should be 'serial', 'process' or 'ray'"),
        ({"fitness": {"kind": "closed_loop", "env": {"id": "sim_envs/BlimpAltitude-v0", "envelope": "all",
                                                     "kwargs": {"thrust_gain": 0.06}, "episode_steps": 10},
                     "objectives": ["itae"]}},
         "kwargs.thrust_gain with an envelope"),
        ({"backend": {"name": "process", "timeout_s": 0}}, "backend.timeout_s: Input should be greater than 0"),
        ({"backend": {"name": "ray", "timeout_s": float("nan")}}, "backend.timeout_s: Input should be a finite number"),
        (  # the billion-individual generation came after the first restart
            {"strategy": {"name": "cmaes", "population": 1000, "restarts": 2, "ipop_factor": 1e6}},
            "population 1000 x ipop_factor 1e+06 ** restarts 2 = 1000000000000000 exceeds 100000 individuals",
        ),
        ({"strategy": {"name": "cmaes", "restarts": 1, "ipop_factor": float("inf")}}, "Input should be a finite"),
        ({"strategy": {"name": "cmaes", "population": 10, "restarts": 1100}}, "= inf exceeds 100000"),  # overflowed
        ({"strategy": {"name": "cmaes", "mu": 40}}, "strategy.mu (40) exceeds the default population 4 + 3 ln D"),
        ({"fitness": {"kind": "closed_loop", "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 5},
                      "objectives": ["itae"], "weights": [float("nan")]}},
         "fitness.closed_loop.weights.0: Input should be a finite number"),
        ({"fitness": {"kind": "closed_loop", "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 5},
                      "objectives": ["itae", "energy"], "weights": [1.0, -0.5]}},  # (rewarded energy use)
         "fitness.closed_loop.weights.1: Input should be greater than or equal to 0"),
        ({"fitness": {"kind": "closed_loop", "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 5},
                      "objectives": ["itae", "energy"], "weights": [0, 0.0]}},  # (every individual scored 0)
         "fitness.closed_loop: weights are all 0: give at least one objective a weight > 0"),
        ({"strategy": {"name": "ga", "init_spread": 0.1}}, "strategy.init_spread spreads the first population around"),
        ({"fitness": {"kind": "swimmer_bodies", "bodies": 0}},
         "fitness.swimmer_bodies.bodies: Input should be greater"),
    ],
)
def test_bad_config_gives_one_line(change, message, tmp_path, capsys):
    assert _evolve(tmp_path, {**GOOD, **change}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("snncontrol evolve: error: ")
    assert message.replace("Value error, ", "") in err, err


def test_a_misspelt_key_is_named_before_the_field_it_leaves_missing(tmp_path, capsys):
    config = {key: value for key, value in GOOD.items() if key != "strategy"} | {"strategi": GOOD["strategy"]}
    assert _evolve(tmp_path, config) == 2
    assert "config.yaml: strategi: unknown field (+1 more)" in capsys.readouterr().err  # was: strategy missing


@pytest.mark.parametrize(
    ("fitness", "message"),
    [
        ({"factory": "faulty:make_nan", "kwargs": {"above": 0.5}, "objectives": ["sphere"], "maximize": ["shpere"]},
         "maximize names ['shpere'], not among the objectives ['sphere']"),  # (it was minimized in silence)
        ({"factory": "faulty:make_nan", "kwargs": {"above": 0.5, "bogus": 1}, "objectives": ["sphere"]},
         "fitness.factory 'faulty:make_nan': refused its kwargs (got an unexpected keyword argument 'bogus')"),
        ({"factory": "faulty:make_flat", "objectives": ["sphere"]},  # [P] values, not [P, 1]: a stack dump
         "the fitness returned objective values of shape (6,) for 6 individuals: it must return"),
        ({"factory": "faulty:make_nan", "kwargs": {"above": -1.0}, "objectives": ["sphere"]},  # (exit 0, "best None")
         "run failed (NaN or infinite objective values, counted in its logbook.csv): nothing was evolved; check"),
    ],
)
def test_a_custom_fitness_that_is_misconfigured_or_misbehaves_is_one_line(fitness, message, tmp_path, capsys):
    assert _evolve(tmp_path, {**GOOD, "fitness": {"kind": "custom", **fitness}}, "--allow-import", "faulty") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "run" / "best").exists()  # (an arbitrary failure was saved as the champion)


def test_workers_with_the_serial_backend_are_refused(tmp_path, capsys):
    assert _evolve(tmp_path, GOOD, "--workers", "8") == 2  # (it ran serially and wrote workers: 8 to config.yaml)
    assert "--workers sizes a process pool or Ray tasks: the serial backend" in capsys.readouterr().err


def test_backend_flags_the_backend_does_not_take_are_refused_naming_the_flag(tmp_path, capsys):
    assert _evolve(tmp_path, {**GOOD, "backend": {"name": "process"}}, "--address", "10.0.0.1:6379") == 2
    assert "--address names a Ray cluster: the backend is process (give --backend ray)" in capsys.readouterr().err


def test_backend_serial_drops_the_workers_and_address_of_the_configs_own_backend(tmp_path, capsys):
    """A config's workers and address belong to its backend: a run resumed with --backend serial from a process or
    Ray run's config.yaml (which holds them) was refused for settings the serial backend does not take."""
    for backend in ({"name": "process", "workers": 4}, {"name": "ray", "workers": 2, "address": "10.0.0.1:6379"}):
        shutil.rmtree(tmp_path / "run", ignore_errors=True)
        assert _evolve(tmp_path, {**GOOD, "backend": backend}, "--backend", "serial") == 0, capsys.readouterr().err
        saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["backend"]
        assert (saved["name"], saved["workers"], saved["address"]) == ("serial", None, None)


def test_a_command_line_override_into_a_config_value_that_is_no_mapping_is_one_line(tmp_path, capsys):
    assert _evolve(tmp_path, {**GOOD, "backend": "serial"}, "--workers", "2") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "backend must be a mapping to take backend.workers from the command line" in err


def test_a_new_run_never_overwrites_a_config_or_results_it_did_not_write(tmp_path, capsys):
    """`evolve exp/config.yaml --run-dir exp` replaced the user's own config (comments and all); a run dir with
    another run's logbook or champion but no checkpoint had them overwritten. An attempt at the same run killed
    before its first checkpoint (its own config.yaml, no logbook) is started again; a run whose checkpoints were
    deleted (its logbook says it had some) is not."""
    mine = tmp_path / "exp"
    mine.mkdir()
    text = "# my experiment: keep these notes\n" + yaml.safe_dump(GOOD)
    (mine / "config.yaml").write_text(text)
    assert main(["evolve", str(mine / "config.yaml"), "--quiet", "--run-dir", str(mine)]) == 2
    assert "holds a config.yaml no run wrote" in capsys.readouterr().err
    assert (mine / "config.yaml").read_text() == text
    assert _evolve(tmp_path, GOOD) == 0
    shutil.rmtree(tmp_path / "run" / "checkpoints")
    assert _evolve(tmp_path, GOOD, "--seed", "9") == 2  # its results, checkpoints deleted: a finished run
    assert "holds the logbook and results of a run whose checkpoints are gone" in capsys.readouterr().err
    (tmp_path / "run" / "logbook.csv").unlink()
    assert _evolve(tmp_path, GOOD) == 0  # the same run, killed before its first checkpoint: started again
    shutil.rmtree(tmp_path / "run" / "checkpoints")
    (tmp_path / "run" / "logbook.csv").unlink()
    assert _evolve(tmp_path, GOOD, "--generations", "3") == 0  # an attempt with other settings: started again too
    shutil.rmtree(tmp_path / "run" / "checkpoints")
    (tmp_path / "run" / "config.yaml").unlink()
    assert _evolve(tmp_path, GOOD) == 2  # a logbook and best/ of a run that is not this one
    assert "holds logbook.csv of another run" in capsys.readouterr().err
    # a controller artifact or a route: best/ and checkpoints/ were written among its files, exit 0
    for folder, own, what in (("controller", "controller.json", "a controller artifact"),
                              ("route", "route.json", "a place-recognition route")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / own).write_text("{}")
        assert main(["evolve", str(tmp_path / "config.yaml"), "--quiet", "--run-dir", str(tmp_path / folder)]) == 2
        assert f"holds {what} ({own}): a run would write among its files" in capsys.readouterr().err
        assert sorted(p.name for p in (tmp_path / folder).iterdir() if p.name != ".lock") == [own]
    (tmp_path / "logged").mkdir()  # other files may sit beside a run: `evolve ... > RUN/evolve.log`
    (tmp_path / "logged" / "evolve.log").write_text("")
    assert main(["evolve", str(tmp_path / "config.yaml"), "--quiet", "--run-dir", str(tmp_path / "logged")]) == 0


def test_a_resumed_run_refuses_another_seed_naming_it(tmp_path, capsys):
    """It said only that the experiment's hash differed."""
    assert _evolve(tmp_path, GOOD) == 0
    capsys.readouterr()
    argv = ["evolve", "--resume", str(tmp_path / "run"), "--quiet", "--generations", "3"]
    assert main([*argv, "--seed", "5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--seed 5: the run in {tmp_path / 'run'} was started with seed 3" in err, err
    assert main([*argv, "--seed", str(GOOD["seed"])]) == 0  # its own seed, given again: resumed


def test_unreadable_yaml_and_missing_resume(tmp_path, capsys):
    assert _evolve(tmp_path, "seed: [1,\n") == 2
    assert "not valid YAML" in capsys.readouterr().err
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"name: x\n\xff\xfe\n")
    assert main(["evolve", str(binary), "--quiet"]) == 2
    assert f"{binary}: not UTF-8 text (byte 8" in capsys.readouterr().err  # the file named, no traceback
    assert main(["evolve", "--resume", str(tmp_path / "nothing"), "--quiet"]) == 2
    assert f"--resume {tmp_path / 'nothing'}: no such run directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["evolve", "--resume", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "no such config file" in capsys.readouterr().err
    config = tmp_path / "good.yaml"
    config.write_text(yaml.safe_dump(GOOD))
    assert main(["evolve", str(config), "--resume", str(tmp_path / "typo"), "--quiet"]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["evolve", str(config), "--resume", str(tmp_path / "empty"), "--quiet"]) == 2
    assert "holds no checkpoint to resume from" in capsys.readouterr().err
    assert not (tmp_path / "typo").exists()  # (the lock made the typo'd folder)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_example_configs_validate(path):
    config = load_config(path)
    problem = resolve_network(config.network)
    assert problem.dim > 0


def test_run_directory_outputs_and_overrides(tmp_path, capsys):
    assert _evolve(tmp_path, GOOD, "--generations", "3", "--seed", "11") == 0
    run = tmp_path / "run"
    assert {p.name for p in run.iterdir()} >= {"config.yaml", "logbook.csv", "progress.png", "checkpoints", "best"}
    header = (run / "logbook.csv").read_text().splitlines()[0]
    assert header == "gen,evals,best,mean,median,std,failed,elapsed_s"
    spec, genome, metadata, _ = read_artifact(run / "best")
    assert metadata.seed == 11 and isinstance(metadata.fitness, float)
    assert metadata.extra["strategy"] == "cmaes" and metadata.extra["generations_done"] == 3
    assert len(genome) == spec.parameters.size
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["seed"] == 11 and saved["generations"] == 3
    assert json.loads((run / "checkpoints" / "latest.json").read_text()) == {"generation": 3}
    # --resume RUN_DIR alone reads the run's config.yaml; --generations extends it.
    assert main(["evolve", "--resume", str(run), "--generations", "5", "--quiet"]) == 0
    assert len((run / "logbook.csv").read_text().splitlines()) == 6
    # A different seed is a different experiment: refused.
    assert main(["evolve", "--resume", str(run), "--seed", "12", "--generations", "6", "--quiet"]) == 2
    assert "--seed 12: the run in" in capsys.readouterr().err


def test_artifact_network_seeds_the_search(tmp_path):
    assert _evolve(tmp_path, GOOD) == 0
    _, genome, _, _ = read_artifact(tmp_path / "run" / "best")
    data = {**GOOD, "network": {"artifact": str(tmp_path / "run" / "best")}, "generations": 1}
    data["strategy"] = {"name": "cmaes", "population": 6, "sigma": 1e-9, "out_of_bounds": "clip"}
    (tmp_path / "second").mkdir()
    assert _evolve(tmp_path / "second", data) == 0
    _, tuned, _, _ = read_artifact(tmp_path / "second" / "run" / "best")
    assert abs(tuned - genome).max() < 1e-6  # the mean started at the artifact's genome


def test_evolving_a_subset_keeps_every_other_parameter_of_the_artifact(tmp_path, capsys):
    assert _evolve(tmp_path, GOOD) == 0
    spec, genome, _, _ = read_artifact(tmp_path / "run" / "best")
    # Values as a person writes them (0.3, 0.6, ...), most of which do not survive a round trip through the
    # unit cube bit for bit: the held ones must come back exactly all the same.
    low, high = spec.parameters.low, spec.parameters.high
    genome = np.round(low + np.random.default_rng(0).uniform(0.2, 0.8, genome.size) * (high - low), 1)
    params = spec.parameters
    assert (params.denormalize(params.normalize(genome)) != genome).any()
    save_controller(tmp_path / "start", spec, genome)
    data = {
        **GOOD,
        "network": {"artifact": str(tmp_path / "start"), "evolve": ["readout.*", "hidden.theta"]},
        "generations": 3,
        "strategy": {"name": "cmaes", "population": 6, "sigma": 0.3},
    }
    (tmp_path / "subset").mkdir()
    assert _evolve(tmp_path / "subset", data) == 0
    _, tuned, _, _ = read_artifact(tmp_path / "subset" / "run" / "best")
    changed = {e.name for e in spec.parameters.entries if not (tuned[e.slice] == genome[e.slice]).all()}
    assert changed and changed <= {"readout.w_in", "readout.decay_mem", "hidden.theta"}
    data["network"]["evolve"] = ["nothing.*"]
    assert _evolve(tmp_path / "subset", data) == 2
    # Element slices of a flattened parameter: only those elements move.
    data["network"]["evolve"] = ["hidden.theta[1:3]"]
    (tmp_path / "slice").mkdir()
    assert _evolve(tmp_path / "slice", data) == 0
    _, tuned, _, _ = read_artifact(tmp_path / "slice" / "run" / "best")
    theta = spec.parameters.by_name["hidden.theta"]
    moved = np.flatnonzero(tuned != genome)
    assert moved.size and set(moved.tolist()) <= {theta.offset + 1, theta.offset + 2}
    data["network"]["evolve"] = [f"hidden.theta[0:{theta.size + 1}]"]
    (tmp_path / "bad").mkdir()
    assert _evolve(tmp_path / "bad", data) == 2
    assert f"needs 0 <= start < stop <= {theta.size}" in capsys.readouterr().err


BLIMP_CONFIGS = sorted(Path(__file__).parents[2].joinpath("configs").glob("blimp_*.yaml"))


@pytest.mark.parametrize("path", BLIMP_CONFIGS, ids=[p.stem for p in BLIMP_CONFIGS])
def test_blimp_pipeline_configs_validate(path):
    """The configs of benchmarks/blimp_pipeline.py; those that start from an earlier step's artifact are
    resolved against the shipped PD+I controller, a network of the same shape."""
    from snncontrol.controllers import SHIPPED

    config = load_config(path)
    if config.network.artifact is not None:
        config = config.model_copy(
            update={"network": config.network.model_copy(update={"artifact": str(SHIPPED["blimp"])})}
        )
    assert resolve_network(config.network).dim > 0


def test_the_last_line_names_the_champion_saved_in_best(tmp_path, capsys):
    assert _evolve(tmp_path, GOOD) == 0
    champion = read_artifact(tmp_path / "run" / "best")[2].fitness
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith(f"best {champion}")


def test_a_shipped_controller_seeds_the_search(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**GOOD, "network": {"artifact": "shipped:blimp"}}))
    problem = resolve_network(load_config(path).network)
    assert problem.spec.to_dict() == read_artifact(resolve("shipped:blimp"))[0].to_dict()


def test_a_ray_address_where_nothing_answers_is_one_line(tmp_path, capsys):
    """Ray retried such an address for ever (rewritten to this machine's own IP), printing a warning a minute."""
    with socket.socket() as closed:  # bound, not listening: a connection there is refused
        closed.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{closed.getsockname()[1]}"
        assert _evolve(tmp_path, GOOD, "--backend", "ray", "--address", address) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"snncontrol evolve: error: cannot reach the Ray cluster at {address}: Connection refused"
    ]


@pytest.mark.parametrize("address", ["127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1:6379x", "127.0.0.1:²"])
def test_a_ray_address_without_a_valid_port_is_one_line(address, tmp_path, capsys):
    assert _evolve(tmp_path, GOOD, "--backend", "ray", "--address", address) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"snncontrol evolve: error: the Ray cluster address {address!r} needs a port 1-65535 after its last ':'"
    ]


def test_a_local_ray_outside_the_loopback_namespace_is_warned_of(monkeypatch, caplog):
    """Its servers would listen on every interface; the warning names the way to keep it on this machine. (Ray's
    start is replaced here: the tests start a local Ray only inside `python -m evolution.loopback`.)"""
    ray = pytest.importorskip("ray")

    def refuse(**_kwargs):
        raise RuntimeError("not started")

    monkeypatch.setattr(ray, "init", refuse)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(loopback, "isolated", lambda: False)
    with pytest.raises(RuntimeError, match="not started"):
        RayBackend({}, workers=2, address=None, max_retries=0)
    assert [r.getMessage() for r in caplog.records] == [LOCAL_RAY_LISTENS_EVERYWHERE]
    assert "python -m evolution.loopback" in LOCAL_RAY_LISTENS_EVERYWHERE
