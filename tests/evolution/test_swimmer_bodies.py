"""The NCAP fitness over the swimmer body envelope: bodies drawn per generation, each individual re-instantiated
for each body's links, the log-return objective, validation bodies, and a run whose champion deploys."""

from __future__ import annotations

import numpy as np
import pytest
from evo_support import TINY_NET, logbook, run

from evolution.config import parse_config
from evolution.errors import ConfigError
from evolution.fitness import build_fitness
from evolution.fitness.swimmer_bodies import SwimmerBodiesFitness, body_of
from evolution.problem import resolve_network
from evolution.rng import VALIDATION_KEY, derive_seed
from snncontrol.artifacts import read_artifact
from snncontrol.cli import main
from snncontrol.controllers.ncap import ncap_io, ncap_spec, ncap_weights, paper_genome, retarget
from snncontrol.evaluation.swimming import swim

NCAP_NET = {"builder": "snncontrol.controllers.ncap:ncap_spec", "kwargs": {"n_links": 6, "variant": "spiking"}}
NCAP_IO = {"observation": {"kind": "select", "indices": [0, 1, 2, 3, 4], "scale": 0.954929658551372},
           "action": {"kind": "affine_clip", "low": -1.0, "high": 1.0}}


def _config(network: dict | None = None, **fitness) -> dict:
    return {
        "seed": 3, "generations": 1, "network": network or NCAP_NET,
        "strategy": {"name": "cmaes", "population": 3, "sigma": 0.1, "initial_mean": "spec_init"},
        "fitness": {"kind": "swimmer_bodies", "bodies": 2, "episode_steps": 40, **{"io": NCAP_IO, **fitness}},
        "output": {"plot_every": 1000},
    }


def _fitness(**fitness):
    config = parse_config(_config(**fitness))
    problem = resolve_network(config.network)
    return build_fitness(config, problem), problem


def test_each_individual_swims_every_body_of_the_generation_retargeted_to_its_links():
    fitness, problem = _fitness()
    seeds = fitness.generation_data(0)["seeds"]
    assert len(seeds) == 2 and not np.array_equal(seeds, fitness.generation_data(1)["seeds"])
    genomes = np.stack([paper_genome(problem.spec), 0.5 * paper_genome(problem.spec)])
    scores = fitness.evaluate(genomes, {"seeds": seeds})
    expected = []
    for seed in seeds:
        links, body = body_of(int(seed))
        returns = []
        for genome in genomes:  # one at a time, through the public retarget + swim
            spec, retargeted, io = retarget(problem.spec, genome, links)
            returns.append(swim(spec, retargeted, io, links, [int(seed)], 40, env_kwargs=body).returns[0])
        expected.append(np.log(np.maximum(returns, 1.0)))
    np.testing.assert_allclose(scores[:, 0], np.mean(expected, axis=0), rtol=1e-9)
    # a chunk of the population scores as it does in the whole population
    np.testing.assert_allclose(fitness.evaluate(genomes[1:], {"seeds": seeds}), scores[1:], rtol=1e-9)


def test_a_return_of_one_or_less_counts_as_zero_and_bodies_are_drawn_from_the_envelope(monkeypatch):
    fitness, problem = _fitness(bodies=2)
    returns = {0: np.array([-5.0, 0.5, np.e**2]), 1: np.array([1.0, np.e, np.e**4])}  # per body, 3 genomes
    monkeypatch.setattr(fitness, "returns", lambda genomes, seed: returns[seed])
    scores = fitness.evaluate(np.zeros((3, problem.spec.parameters.size)), {"seeds": np.array([0, 1])})
    np.testing.assert_allclose(scores[:, 0], [0.0, 0.5, 3.0])  # backward or still: ln 1 = 0
    for seed in range(20):
        links, body = body_of(seed)
        assert 3 <= links <= 12 and 0.05 <= body["link_length"] <= 0.2 and 1e-3 <= body["viscosity"] <= 0.1


@pytest.mark.parametrize("io", [NCAP_IO, None], ids=["config-io", "own-io"])
def test_the_champion_is_the_best_on_fixed_validation_bodies_and_deploys_on_its_own_body(io, tmp_path, capsys,
                                                                                        monkeypatch):
    data = _config(validation_bodies=2, io=io)
    data["generations"] = 3
    swum = []  # (genomes, body seeds) of every evaluation, the generations' and the validations'
    evaluate = SwimmerBodiesFitness.evaluate

    def recorded(self, genomes, bodies):
        swum.append((len(genomes), [int(seed) for seed in bodies["seeds"]]))
        return evaluate(self, genomes, bodies)

    monkeypatch.setattr(SwimmerBodiesFitness, "evaluate", recorded)
    experiment = run(data, tmp_path / "run")
    spec, genome, metadata, adapters = read_artifact(tmp_path / "run" / "best")
    losses = [float(row["train_loss"]) for row in logbook(tmp_path / "run")]
    assert len(losses) == 3 and metadata.extra["selection_loss"] == min(losses)
    assert experiment.fitness.selection_loss(genome) == min(losses)  # the same fixed bodies, scored again
    # ... and held out: the run's validation key, none of them a body any generation trained on
    training = [seeds for genomes, seeds in swum if genomes == 3]  # the population
    assert training == [experiment.fitness.generation_data(g)["seeds"].tolist() for g in range(3)]
    validation = [derive_seed(data["seed"], VALIDATION_KEY, k) for k in range(2)]
    validations = [seeds for genomes, seeds in swum if genomes == 1]  # each generation's best, and just now
    assert len(validations) >= 4 and all(seeds == validation for seeds in validations)
    assert not set(validation) & {seed for seeds in training for seed in seeds}
    assert spec.to_dict() == ncap_spec(6, "spiking").to_dict()
    own = ncap_io(6)  # (without io the identity adapters were shipped: the champion would not run)
    assert adapters.observation.indices == own.observation.indices
    assert adapters.observation.scale == pytest.approx(own.observation.scale)
    assert set(ncap_weights(spec, genome)) == {"proprioceptive", "oscillator", "ipsilateral", "contralateral"}
    assert main(["eval-swimmer", str(tmp_path / "run" / "best"), "--links", "6", "--steps", "20"]) == 0
    assert "return" in capsys.readouterr().out


@pytest.mark.parametrize("network", [TINY_NET])
def test_a_network_that_is_not_an_ncap_is_one_config_error(network):
    config = parse_config(_config(network))
    with pytest.raises(ConfigError, match="swimmer_bodies needs an NCAP network"):
        build_fitness(config, resolve_network(config.network))
