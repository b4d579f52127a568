"""`network.construction`: a few settings of a construction evolve, and the construction sets every parameter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from evo_support import best_genome, logbook, sphere_config

from evolution.config import load_config, parse_config
from evolution.errors import ConfigError, EvaluationError
from evolution.problem import resolve_network
from evolution.runner import Experiment
from snncontrol.artifacts import read_artifact
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp.spiking_pd import constructed_pd_i
from snncontrol.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]
ALLOW = ("constructions",)  # tests/evolution/constructions.py


def construction_config(generations: int = 12, refuse_above: float = 1.0, **settings) -> dict:
    network = {"construction": {"builder": "constructions:level", "fixed": {"refuse_above": refuse_above},
                                "settings": settings or {"level": {"low": 0.0, "high": 1.0, "seed": 0.9}}}}
    return sphere_config({"name": "cmaes", "population": 8, "sigma": 0.2}, generations, [0.3], network=network)


def run(data: dict, run_dir: Path) -> Experiment:
    experiment = Experiment(parse_config(data, allow_import=ALLOW), run_dir, quiet=True)
    experiment.run()
    return experiment


def test_the_settings_evolve_and_the_champion_is_what_the_construction_builds_from_its_settings(tmp_path):
    """The sphere's optimum (every parameter at 0.3 of its range) is the level 0.3: the run finds it from the seed
    level 0.9, and best/ holds the construction's genome of the settings its metadata records."""
    run(construction_config(), tmp_path / "run")
    spec, genome, metadata, _ = read_artifact(tmp_path / "run" / "best")
    construction = metadata.extra["construction"]
    assert construction["builder"] == "constructions:level" and construction["fixed"] == {"refuse_above": 1.0}
    found = construction["settings"]["level"]
    assert abs(found - 0.3) < 0.03
    from constructions import level

    assert np.array_equal(genome, level(found)[1])
    assert spec.parameters.size == genome.size


def test_the_seed_starts_the_search_at_its_settings(tmp_path):
    experiment = Experiment(parse_config(construction_config(1), allow_import=ALLOW), tmp_path / "run", quiet=True)
    assert experiment.problem.dim == 1
    assert np.allclose(experiment.problem.seed_unit(), [0.9])
    from constructions import level

    assert np.array_equal(experiment.problem.seed_genome, level(0.9)[1])
    # the seed's own point builds the seed's genome exactly (no round trip through the unit cube)
    assert np.array_equal(experiment.problem.to_genome(np.array([[0.9]]))[0], experiment.problem.seed_genome)
    with pytest.raises(ValueError, match="cannot be read back"):
        experiment.problem.to_unit(experiment.problem.seed_genome)


def test_settings_the_construction_refuses_score_the_worst_and_never_win(tmp_path):
    """Levels above 0.5 are refused (as pd_genome refuses a derivative it cannot build): those individuals are
    counted as failed, never evaluated, and the champion is one the construction built."""
    data = construction_config(6, refuse_above=0.5, level={"low": 0.0, "high": 1.0, "seed": 0.45})
    run(data, tmp_path / "run")
    rows = logbook(tmp_path / "run")
    assert sum(int(row["failed"]) for row in rows) > 0
    assert all(int(row["failed"]) < int(rows[0]["evals"]) for row in rows)  # some of each generation built
    _, _, metadata, _ = read_artifact(tmp_path / "run" / "best")
    assert metadata.extra["construction"]["settings"]["level"] <= 0.5


@pytest.mark.parametrize(
    ("construction", "message"),
    [
        ({"settings": {}}, "settings"),
        ({"settings": {"level": {"low": 1.0, "high": 1.0, "seed": 1.0}}}, "needs low < high"),
        ({"settings": {"level": {"low": 0.0, "high": 1.0, "seed": 2.0}}}, "seed 2.0 is outside 0.0 .. 1.0"),
        ({"fixed": {"level": 0.2}, "settings": {"level": {"low": 0, "high": 1, "seed": 0.5}}}, "level both fixed"),
        ({"builder": "os:system"}, "'os:system' is not a registered construction"),
        ({"settings": {"level": {"low": 0, "high": 1, "seed": True}}}, "not true"),
        ({"settings": {"level": {"low": -1e308, "high": 1e308, "seed": 0}}}, "wider than a float holds"),
    ],
)
def test_a_bad_construction_section_is_one_config_error(construction, message):
    data = construction_config(1)
    data["network"]["construction"].update(construction)
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(data, allow_import=ALLOW)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("construction", "message"),
    [
        ({"fixed": {"refuse_above": 0.5}}, r"its seed settings fail \(level 0.9 is above 0.5\)"),
        ({"fixed": {"colour": 3}}, "colour"),
        ({"builder": "constructions:spec_only", "fixed": {}}, r"must return \(spec, genome, adapters\)"),
    ],
)
def test_a_construction_that_cannot_build_its_seed_is_one_config_error(construction, message):
    data = construction_config(1)
    data["network"]["construction"].update(construction)
    with pytest.raises(ConfigError, match=message):
        resolve_network(parse_config(data, allow_import=ALLOW).network)


def test_a_construction_is_not_given_beside_another_network_nor_with_evolve():
    data = construction_config(1)
    with pytest.raises(ConfigError, match="exactly one of builder, spec, artifact, construction"):
        parse_config({**data, "network": {**data["network"], "artifact": "shipped:blimp"}}, allow_import=ALLOW)
    with pytest.raises(ConfigError, match=r"evolve .* needs an artifact"):
        parse_config({**data, "network": {**data["network"], "evolve": ["readout.*"]}}, allow_import=ALLOW)


def test_the_blimp_construction_config_starts_from_the_shipped_seed():
    """configs/blimp_envelope_construction.yaml's seed settings build shipped:blimp_envelope_seed bit for bit (the
    construction `snncontrol blimp-integrator --pd constructed` runs), with its adapters."""
    problem = resolve_network(load_config(ROOT / "configs" / "blimp_envelope_construction.yaml").network)
    spec, genome, _, io = read_artifact(resolve("shipped:blimp_envelope_seed"))
    assert problem.spec.to_dict() == spec.to_dict()
    assert np.array_equal(problem.seed_genome, genome)
    assert problem.io == io
    assert problem.dim == 8


def test_the_blimp_construction_refuses_a_derivative_it_cannot_build():
    """A kd far beyond what the construction builds within the bounds (40 per m/s at kp 3) is its SpecError: the
    search scores it the worst (a NaN genome row), never a network that is not the PD it names."""
    data = yaml.safe_load((ROOT / "configs" / "blimp_envelope_construction.yaml").read_text())
    data["network"]["construction"]["settings"]["kd"]["high"] = 40.0
    problem = resolve_network(parse_config(data).network)
    construction = problem.construction
    assert construction is not None
    point = construction.seed_unit.copy()
    point[construction.names.index("kd")], point[construction.names.index("kp")] = 1.0, 0.0
    settings = construction.settings(point)
    assert (settings["kd"], settings["kp"]) == (40.0, 3.0)
    with pytest.raises(SpecError, match="kd=40 per m/s at kp=3 is beyond what the construction builds"):
        constructed_pd_i(**construction.fixed, **settings)
    assert np.isnan(problem.to_genome(point[None])).all()
    assert np.isfinite(problem.to_genome(construction.seed_unit[None])).all()


def test_a_construction_run_on_process_workers_with_a_seeded_ga_equals_the_serial_run(tmp_path):
    """Workers get the network as a spec and the genomes the driver built: the same run on process workers, its
    first population spread around the seed settings, logs what the serial run logs."""
    data = construction_config(3)
    data["strategy"] = {"name": "ga", "mu": 4, "lambda": 8, "init_spread": 0.05}
    serial = run(data, tmp_path / "serial")
    spread = run({**data, "backend": {"name": "process", "workers": 2}}, tmp_path / "process")
    assert logbook(tmp_path / "serial") == logbook(tmp_path / "process")
    assert serial.state.generation == spread.state.generation == 3


def test_an_extended_construction_run_equals_a_longer_one(tmp_path):
    run(construction_config(3), tmp_path / "extended")
    data = construction_config(6)
    experiment = Experiment(parse_config(data, allow_import=ALLOW), tmp_path / "extended", quiet=True)
    experiment.run(resume=True)
    run(data, tmp_path / "straight")
    assert logbook(tmp_path / "extended") == logbook(tmp_path / "straight")
    assert np.array_equal(best_genome(tmp_path / "extended"), best_genome(tmp_path / "straight"))


def test_a_generation_whose_every_setting_is_refused_counts_them_failed_and_goes_on(tmp_path):
    """A generation whose every individual is refused (levels above 0.1): the backend gets nothing to evaluate,
    the generation logs them all failed and the run goes on (it stopped with "the fitness returned objective values
    of shape (0,)"); a run where every one is refused says so."""
    data = construction_config(6, refuse_above=0.1, level={"low": 0.0, "high": 1.0, "seed": 0.0})
    data["strategy"], data["seed"] = {"name": "cmaes", "population": 4, "sigma": 0.3}, 1
    run(data, tmp_path / "run")
    failed = [int(row["failed"]) for row in logbook(tmp_path / "run")]
    assert len(failed) == 6 and 4 in failed and min(failed) < 4, failed
    assert read_artifact(tmp_path / "run" / "best")[2].extra["construction"]["settings"]["level"] <= 0.1
    data = construction_config(1, refuse_above=0.0, level={"low": 0.0, "high": 1.0, "seed": 0.0})
    data["strategy"] = {"name": "cmaes", "population": 4, "sigma": 0.3}
    with pytest.raises(EvaluationError, match=r"settings a network\.construction refuses"):
        run(data, tmp_path / "none")  # every evaluation refused: nothing evolved


def test_the_order_of_the_settings_is_part_of_the_experiment():
    """The settings' order is the search's axes: a run resumed with them reordered read its checkpointed points as
    the other settings (sort_keys hashed both orders alike)."""
    from evolution.problem import config_hash

    settings = {"level": {"low": 0.0, "high": 1.0, "seed": 0.5}, "scale": {"low": 0.5, "high": 2.0, "seed": 1.0}}
    one = parse_config(construction_config(1, **settings), allow_import=ALLOW)
    two = parse_config(construction_config(1, **dict(reversed(settings.items()))), allow_import=ALLOW)
    assert config_hash(one, resolve_network(one.network)) != config_hash(two, resolve_network(two.network))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("size", "genome must have 37 values"),
        ("bounds", "outside"),
        ("spec", "built another network than at its seed's settings"),
        ("tuple", r"must return \(spec, genome, adapters\), got ndarray"),
    ],
)
def test_a_construction_that_returns_what_none_may_is_one_config_error_naming_it(fault, message):
    """Beyond level 0.5 the construction returns a wrong genome, another network or a bare genome: a one-line
    ConfigError naming the builder and the settings (a stack trace mid-run, a champion that failed to save at the
    end, or a network silently flown on the seed's spec before)."""
    data = construction_config(1, level={"low": 0.0, "high": 1.0, "seed": 0.2})
    data["network"]["construction"].update(builder="constructions:faulty", fixed={"fault": fault})
    problem = resolve_network(parse_config(data, allow_import=ALLOW).network)
    assert np.isfinite(problem.to_genome(np.array([[0.3]]))).all()
    with pytest.raises(ConfigError, match=message) as caught:
        problem.to_genome(np.array([[0.8]]))
    assert "'constructions:faulty' at {'level': 0.8" in str(caught.value) and "\n" not in str(caught.value)


def test_settings_stay_within_their_ranges_and_extra_keywords_are_refused():
    settings = {"level": {"low": 0.3, "high": 0.9, "seed": 0.5}}
    problem = resolve_network(parse_config(construction_config(1, **settings), allow_import=ALLOW).network)
    assert problem.construction is not None
    assert problem.construction.settings(np.array([1.0]))["level"] == 0.9  # (0.3 + 1.0 * 0.6 is 1 ulp above)
    data = construction_config(1)
    data["network"]["kwargs"] = {"refuse_above": 0.5}  # (ignored before: a construction's keywords go in fixed)
    with pytest.raises(ConfigError, match="kwargs are a builder's keywords; construction takes none"):
        parse_config(data, allow_import=ALLOW)


def test_a_count_cannot_evolve_as_a_float_in_the_blimp_construction():
    """`far: 3.5` built 4 far neurons per sign with odd weights; a count evolved as a setting is refused at its
    seed, in one line."""
    with pytest.raises(SpecError, match=r"far is a count and must be an integer, got 3\.5"):
        constructed_pd_i(20, 39, kp=3.0, kd=12.0, far=3.5)
    data = yaml.safe_load((ROOT / "configs" / "blimp_envelope_construction.yaml").read_text())
    data["network"]["construction"]["settings"]["far"] = {"low": 1, "high": 6, "seed": 3}
    with pytest.raises(ConfigError, match=r"its seed settings fail \(constructed_pd_i: far is a count"):
        resolve_network(parse_config(data).network)
