"""Each strategy improves a sphere in the bounds and never returns a genome outside them."""

from __future__ import annotations

import numpy as np
import pytest
from evo_support import best_genome, logbook, run, sphere_config

from evolution.config import CMAESConfig, parse_config
from evolution.problem import resolve_network
from evolution.strategies import build_strategy
from evolution.strategies.base import individual_class
from snncontrol.seeding import seed_everything


@pytest.mark.parametrize(
    "strategy",
    [
        {"name": "cmaes", "preset": "paper", "population": 12},
        {"name": "cmaes", "population": 8, "restarts": 2, "stagnation": 3, "tol_fun": 1e-3},
        {"name": "cmaes", "preset": "paper", "population": 12, "covariance": "diagonal"},
        {"name": "ga", "mu": 12, "lambda": 24, "selection": "plus", "indpb": 0.2},
        {"name": "ga", "mu": 12, "lambda": 24, "selection": "comma", "indpb": 0.2},
    ],
    ids=["cmaes-paper", "cmaes-ipop", "sep-cmaes", "ga-plus", "ga-comma"],
)
def test_single_objective_strategies_improve_sphere_in_bounds(strategy, tmp_path):
    experiment = run(sphere_config(strategy, generations=40), tmp_path)
    rows = logbook(tmp_path)
    assert float(rows[-1]["best"]) < 0.6 * float(rows[0]["best"])
    spec = experiment.problem.spec
    for individual in experiment.state.population:
        genome = experiment.problem.to_genome(np.asarray([individual]))
        assert np.all(np.asarray(individual) >= 0) and np.all(np.asarray(individual) <= 1)
        spec.parameters.check(genome)  # raises if out of bounds
    spec.parameters.check(best_genome(tmp_path))


def test_ipop_restart_grows_population(tmp_path):
    experiment = run(
        sphere_config({"name": "cmaes", "population": 6, "restarts": 1, "stagnation": 2, "tol_fun": 10.0}, 6),
        tmp_path,
    )
    sizes = np.diff([0] + [int(row["evals"]) for row in logbook(tmp_path)])
    assert sizes[0] == 6 and sizes[-1] == 12 and experiment.strategy.restart == 1


@pytest.mark.parametrize("initial_mean", ["center", "spec_init"])
def test_an_ipop_restart_starts_from_a_new_uniform_mean_whatever_the_first_start(initial_mean):
    """`initial_mean: center` restarted every run from the center of the cube, the point it had converged from."""
    data = sphere_config({"name": "cmaes", "population": 6, "restarts": 2, "stagnation": 2, "tol_fun": 10.0,
                          "initial_mean": initial_mean}, 5)
    config = parse_config(data)
    problem = resolve_network(config.network)
    seed_everything(0)
    spec_init = problem.to_unit(problem.spec.parameters.initial())
    strategy = build_strategy(config.strategy, individual_class((-1.0,)), problem.dim, None, spec_init)
    first = np.full(problem.dim, 0.5) if initial_mean == "center" else spec_init
    assert np.array_equal(strategy.es.centroid, first)
    starts = []
    while strategy.restart < 2:
        population = strategy.generate()
        for individual in population:
            individual.fitness.values = (float(np.sum(np.square(individual))),)
        restart = strategy.restart
        strategy.update(population)
        if strategy.restart > restart:
            starts.append(np.array(strategy.es.centroid))
    assert len(starts) == 2 and not any(np.allclose(start, first) for start in starts)
    assert not np.allclose(starts[0], starts[1]) and all(((s >= 0) & (s <= 1)).all() for s in starts)


def test_the_stagnation_history_keeps_only_what_the_restart_test_reads(tmp_path):
    """Every generation's best went into every checkpoint: 0.27 s a generation at 30,000 of them."""
    experiment = run(sphere_config({"name": "cmaes", "population": 6, "stagnation": 3}, 12), tmp_path)
    assert len(experiment.strategy.history) == 3


def test_nsga2_finds_a_spread_pareto_front(tmp_path):
    data = sphere_config({"name": "nsga2", "mu": 16}, generations=15, centers=[0.2, 0.8])
    experiment = run(data, tmp_path)
    front = np.loadtxt(tmp_path / "pareto" / "front.csv", delimiter=",", skiprows=1)[:, 1:]
    with np.load(tmp_path / "pareto" / "front.npz", allow_pickle=False) as npz:
        genomes, values = npz["genomes"], npz["objectives"]
    assert len(front) >= 5 and np.array_equal(front, values)
    experiment.problem.spec.parameters.check(genomes)
    # No member dominates another, and the front spans the trade-off between the two centers.
    dominated = [(values <= v).all(axis=1) & (values < v).any(axis=1) for v in values]
    assert not np.any(dominated)
    assert np.ptp(values[:, 0]) > 1.0
    assert (tmp_path / "progress.png").stat().st_size > 0


def test_cmaes_rejection_keeps_samples_inside_near_a_bound():
    config = parse_config(sphere_config({"name": "cmaes", "population": 64, "sigma": 0.5}))
    problem = resolve_network(config.network)
    seed_everything(0)
    cls = individual_class((-1.0,))
    strategy_cfg = CMAESConfig(name="cmaes", population=64, sigma=0.5)
    corner = np.full(problem.dim, 0.02)
    strategy = build_strategy(strategy_cfg, cls, problem.dim, corner, corner)
    points = np.asarray(strategy.generate())
    assert points.shape == (64, problem.dim)
    assert points.min() >= 0.0 and points.max() <= 1.0
    assert np.array_equal(strategy.es.centroid, corner)


def test_separable_cmaes_learns_per_axis_scales_on_an_ill_scaled_problem():
    """On f(x) = sum(s_i^2 x_i^2) the diagonal covariance grows along the flat axes and shrinks along the steep
    ones, which an isotropic search cannot do."""
    seed_everything(4)
    dim = 20
    scales = np.logspace(0, 2, dim)
    cls = individual_class((-1.0,))
    cfg = CMAESConfig(name="cmaes", population=16, sigma=0.1, covariance="diagonal", out_of_bounds="clip")
    strategy = build_strategy(cfg, cls, dim, np.full(dim, 0.6), np.full(dim, 0.5))
    for _ in range(300):
        population = strategy.generate()
        for individual in population:
            individual.fitness.values = (float(np.sum((scales * (np.asarray(individual) - 0.5)) ** 2)),)
        strategy.update(population)
    axes = strategy.es.diagD
    assert axes[0] > 10 * axes[-1]  # the flattest axis is searched much more widely than the steepest
    # the condition number of the covariance, as DEAP's full strategy has it (the axes' ratio squared), which IPOP
    # restarts on beyond 1e14
    assert strategy.es.cond == pytest.approx((axes.max() / axes.min()) ** 2)
    assert np.abs(strategy.es.centroid - 0.5).max() < 1e-2


@pytest.mark.parametrize("strategy", [{"name": "ga", "mu": 12, "lambda": 24}, {"name": "nsga2", "mu": 12}])
def test_a_seeded_first_population_stays_around_the_seed_with_init_spread(strategy):
    seed_everything(1)
    dim = 50
    seed = np.full(dim, 0.4)
    config = parse_config({**sphere_config({**strategy, "init_spread": 0.01}, centers=[0.3, 0.6] if
                                           strategy["name"] == "nsga2" else None),
                           "network": {"artifact": "seed"}})  # (init_spread needs a seed controller)
    cls = individual_class((-1.0,) * (2 if strategy["name"] == "nsga2" else 1))
    points = np.asarray(build_strategy(config.strategy, cls, dim, seed, seed).generate())
    assert np.array_equal(points[0], seed)
    assert np.abs(points - seed).max() < 0.06 and points[1:].std(axis=0).mean() > 0.005
    wide = parse_config(sphere_config(strategy, centers=[0.3, 0.6] if strategy["name"] == "nsga2" else None))
    uniform = np.asarray(build_strategy(wide.strategy, cls, dim, seed, seed).generate())
    assert np.abs(uniform[1:] - seed).max() > 0.5  # without it, the rest of the population is uniform


def test_a_seeded_run_with_init_spread_evaluates_on_process_workers(tmp_path):
    """The workers' config keeps the strategy but inlines the network (no artifact), so init_spread made the worker
    refuse its own config ("it needs network.artifact"): every process or Ray run with it died in generation 0."""
    seed_run = tmp_path / "seed"
    run(sphere_config({"name": "cmaes", "population": 6}, generations=1), seed_run)
    data = {**sphere_config({"name": "ga", "mu": 4, "lambda": 8, "init_spread": 0.05}, generations=2),
            "network": {"artifact": str(seed_run / "best")}, "backend": {"name": "process", "workers": 1}}
    experiment = run(data, tmp_path / "spread")
    assert experiment.state.generation == 2 and len(logbook(tmp_path / "spread")) == 2


def test_a_collapsed_cmaes_search_stops_adapting_instead_of_breaking_down():
    """DEAP's update divides by sigma ** 2: once a converged run without restarts took sigma below ~1e-162, its
    covariance went NaN, and the run crashed at that generation on every resume (or sampled NaN individuals)."""
    seed_everything(0)
    config = parse_config(sphere_config({"name": "cmaes", "population": 8}))
    strategy = build_strategy(config.strategy, individual_class((-1.0,)), 6, None, np.full(6, 0.5))
    strategy.es.sigma = 1e-170  # (where a long converged run on a deterministic fitness ends up)
    for _ in range(3):
        population = strategy.generate()
        for individual in population:
            individual.fitness.values = (float(np.sum((np.asarray(individual) - 0.3) ** 2)),)
        strategy.update(population)
        assert np.isfinite(np.asarray(population)).all() and np.isfinite(strategy.es.C).all()
    with pytest.raises(ValueError, match="sigma"):
        parse_config(sphere_config({"name": "cmaes", "sigma": 1e-170}))
