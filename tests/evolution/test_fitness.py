"""Batched fitness functions: mimicry losses and dataset checks, closed-loop episodes on sim_envs and Gymnasium."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from evo_support import BLIMP_IO, TINY_NET, blimp_config, logbook, run

from evolution.config import NetworkConfig, parse_config
from evolution.errors import ConfigError
from evolution.fitness import build_fitness, closed_loop
from evolution.fitness.mimicry import LOSSES
from evolution.problem import resolve_network
from evolution.rng import VALIDATION_KEY, derive_seed
from sim_envs.gym_envs import CoreVectorEnv
from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Controller, load_controller, read_artifact
from snncontrol.evaluation.blimp_flight import fly_blimp
from snncontrol.network import Network
from snncontrol.policy import SNNPolicy


def _fitness(fitness: dict, network: dict | None = None):
    config = parse_config({
        "seed": 7, "generations": 1, "network": network or TINY_NET,
        "strategy": {"name": "nsga2" if len(fitness.get("objectives", [])) > 1 else "cmaes"}, "fitness": fitness,
    })
    problem = resolve_network(config.network)
    return build_fitness(config, problem), problem


def test_losses_match_their_definitions():
    rng = np.random.default_rng(0)
    u, t = rng.normal(size=(3, 50)), rng.normal(size=(3, 50))
    pearson = np.array([np.corrcoef(a, b)[0, 1] for a, b in zip(u, t, strict=True)])
    np.testing.assert_allclose(LOSSES["mae_pearson"](u, t), np.abs(u - t).mean(1) + 1 - pearson)
    np.testing.assert_allclose(LOSSES["mse"](u, t), ((u - t) ** 2).mean(1))
    assert LOSSES["mae_pearson"](t, t) == pytest.approx(np.zeros(3), abs=1e-12)
    assert LOSSES["mae_pearson"](np.zeros((1, 5)), np.zeros((1, 5)))[0] == 1.0  # constant: pearson 0


def _outputs(problem, genome, inputs):
    """`genome`'s network's outputs [S, T, n_out] on inputs [S, T, n_in]."""
    net, sequences = Network(problem.spec), inputs.shape[0]
    outs, _ = net.rollout(net.params(np.repeat(genome[None], sequences, 0)),
                          torch.as_tensor(inputs.transpose(1, 0, 2)), net.init_state(sequences))
    return outs.double().numpy().transpose(1, 0, 2)


def _dataset(path, problem, genome, sequences=4, steps=40, test_genome=None):
    """Training targets are the outputs of `genome`'s network, so that genome mimics them perfectly; the test
    targets those of `test_genome` (default: `genome` too), so that a held-out loss can differ from the training
    one."""
    rng = np.random.default_rng(1)
    data = {}
    for split, source in (("train", genome), ("test", genome if test_genome is None else test_genome)):
        inputs = rng.normal(size=(sequences, steps, 1))
        data[f"{split}_inputs"], data[f"{split}_targets"] = inputs, _outputs(problem, source, inputs)
    np.savez(path, **data)
    return data


def _hand_loss(problem, genome, inputs, targets, loss, warmup=0):
    """`genome`'s loss on (inputs, targets) from its outputs, per the definitions: per sequence and output over
    the steps after `warmup`, then the mean."""
    u = _outputs(problem, genome, inputs)[:, warmup:].transpose(0, 2, 1)  # [S, n_out, T]
    return float(LOSSES[loss](u, targets[:, warmup:].transpose(0, 2, 1)).mean())


def test_mimicry_scores_a_population_in_one_call_and_logs_test_loss(tmp_path):
    path = tmp_path / "mimic.npz"
    _, problem = _fitness({"kind": "sphere"})
    rng = np.random.default_rng(2)
    target, other = problem.spec.parameters.sample(2, rng)
    arrays = _dataset(path, problem, target, test_genome=other)
    fitness, _ = _fitness({"kind": "mimicry", "dataset": str(path), "warmup": 5, "loss": "mae",
                           "objectives": ["loss", "spikes"]})
    data = fitness.generation_data(0)
    assert data["inputs"].shape == (1, 40, 1)
    genomes = np.vstack([target, problem.spec.parameters.sample(5, rng)])
    values = fitness.evaluate(genomes, data)
    assert values.shape == (6, 2)
    assert values[0, 0] < 1e-6 < values[1:, 0].min()
    np.testing.assert_array_equal(fitness.evaluate(genomes[3:], data), values[3:])  # chunk-independent
    # held out: scored on the test arrays (made by another genome), not on the training ones it mimics
    assert fitness.selection_loss(target) < 1e-6
    test_loss = fitness.test_loss(target)
    assert test_loss > 1e-3
    assert test_loss == pytest.approx(_hand_loss(problem, target, arrays["test_inputs"], arrays["test_targets"],
                                                 "mae", warmup=5), rel=1e-6)
    assert fitness.test_loss(other) < 1e-6  # the genome that made the test targets mimics them
    # a Pareto front's selection values: every objective on every training sequence, the selection loss's data
    chosen = fitness.evaluate(genomes[1:3], fitness.selection_data())
    assert chosen[:, 0].tolist() == [fitness.selection_loss(g) for g in genomes[1:3]]
    assert fitness.selection_data()["inputs"].shape == fitness.dataset["train_inputs"].shape
    indices = {int(np.flatnonzero((fitness.dataset["train_inputs"] == fitness.generation_data(g)["inputs"])
                                  .all(axis=(1, 2)))[0]) for g in range(12)}
    assert len(indices) > 1  # one sequence drawn per generation, not always the same

    run({"seed": 1, "generations": 3, "network": TINY_NET, "strategy": {"name": "cmaes", "population": 6},
         "fitness": {"kind": "mimicry", "dataset": str(path)}}, tmp_path / "run")
    rows = logbook(tmp_path / "run")
    assert len(rows) == 3 and all(float(row["test_loss"]) >= 0 for row in rows)


def test_a_mimicry_run_keeps_the_champion_with_the_lowest_loss_on_all_training_sequences(tmp_path):
    """Each generation is scored on one sequence, so the champion is picked by the loss over all of them, every
    `checkpoint_every` generations (and after the last), where the logbook also gets the held-out loss."""
    path = tmp_path / "mimic.npz"
    _, problem = _fitness({"kind": "sphere"})
    teacher, other = problem.spec.parameters.sample(2, np.random.default_rng(3))
    arrays = _dataset(path, problem, teacher, test_genome=other)
    experiment = run({"seed": 2, "generations": 9, "network": TINY_NET,
                      "strategy": {"name": "cmaes", "population": 6},
                      "fitness": {"kind": "mimicry", "dataset": str(path)},
                      "output": {"checkpoint_every": 4, "plot_every": 1000}}, tmp_path / "run")
    rows = logbook(tmp_path / "run")
    scored = [row for row in rows if row.get("train_loss")]
    assert [int(row["gen"]) for row in scored] == [3, 7, 8]
    losses = [float(row["train_loss"]) for row in scored]
    _, genome, metadata, _ = read_artifact(tmp_path / "run" / "best")
    assert metadata.extra["selection_loss"] == min(losses)
    assert experiment.fitness.selection_loss(genome) == min(losses)
    assert min(losses) == pytest.approx(
        _hand_loss(problem, genome, arrays["train_inputs"], arrays["train_targets"], "mae_pearson"), rel=1e-6)
    # the logbook's test_loss is the champion's on the held-out arrays, whose targets another genome made
    test_loss = float(scored[-1]["test_loss"])
    assert test_loss == pytest.approx(
        _hand_loss(problem, genome, arrays["test_inputs"], arrays["test_targets"], "mae_pearson"), rel=1e-6)
    assert abs(test_loss - min(losses)) > 0.01


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"train_inputs": np.zeros((2, 5, 1))}, "missing array"),
        ({"train_inputs": np.zeros((2, 5, 3)), "train_targets": np.zeros((2, 5, 1)),
          "test_inputs": np.zeros((1, 5, 1)), "test_targets": np.zeros((1, 5, 1))},
         r"train_inputs must be \[S, T, 1\]"),
        ({"train_inputs": np.zeros((2, 5, 1)), "train_targets": np.zeros((2, 4, 1)),
          "test_inputs": np.zeros((1, 5, 1)), "test_targets": np.zeros((1, 5, 1))}, "train_targets must be"),
    ],
)
def test_bad_datasets_give_one_line(arrays, message, tmp_path):
    np.savez(tmp_path / "bad.npz", **arrays)
    fitness, _ = _fitness({"kind": "mimicry", "dataset": str(tmp_path / "bad.npz")})
    with pytest.raises(ConfigError, match=message) as info:
        fitness.generation_data(0)
    assert "\n" not in str(info.value)


def test_a_dataset_file_that_is_no_npz_of_finite_sized_values_gives_one_line(tmp_path):
    """A truncated or empty file and a .npy renamed .npz ended in BadZipFile, EOFError and TypeError tracebacks;
    targets of 1e300 (finite) scored every genome the worst score and the run ended 'successfully'."""
    good = {"train_inputs": np.zeros((2, 5, 1)), "train_targets": np.zeros((2, 5, 1)),
            "test_inputs": np.zeros((1, 5, 1)), "test_targets": np.zeros((1, 5, 1))}
    np.savez(tmp_path / "good.npz", **good)
    whole = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "empty.npz").write_bytes(b"")
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    np.savez(tmp_path / "huge.npz", **{**good, "train_targets": np.full((2, 5, 1), 1e300)})
    for name, message in (("truncated", "not a readable .npz"), ("empty", "not a readable .npz"),
                          ("one", r"one array \(.npy\)"), ("huge", r"beyond \+-1e\+15")):
        fitness, _ = _fitness({"kind": "mimicry", "dataset": str(tmp_path / f"{name}.npz")})
        with pytest.raises(ConfigError, match=message) as info:
            fitness.generation_data(0)
        assert "\n" not in str(info.value), name


def _blimp(episode_s: float, steps: int, objectives: list[str], **options: object):
    return _fitness({"kind": "closed_loop", "io": BLIMP_IO, "objectives": objectives, **options, "env": {
        "id": "sim_envs/BlimpAltitude-v0", "kwargs": {"episode_length_s": episode_s}, "episode_steps": steps,
        "episodes": 2}})


def test_closed_loop_is_chunk_independent_and_stops_at_episode_end():
    fitness, problem = _blimp(1.0, 25, ["return", "tracking_error", "sops", "spikes", "energy"])
    genomes = problem.spec.parameters.sample(5, np.random.default_rng(3))
    data = fitness.generation_data(4)
    values = fitness.evaluate(genomes, data)
    assert values.shape == (5, 5) and np.all(values[:, 0] < 0) and np.all(values[:, 1:] >= 0)
    chunks = np.vstack([fitness.evaluate(genomes[:2], data), fitness.evaluate(genomes[2:], data)])
    np.testing.assert_array_equal(chunks, values)
    # The episodes end after 10 steps (1 s at 10 Hz): 25 requested steps score exactly the first 10.
    exact, _ = _blimp(1.0, 10, ["return", "tracking_error", "sops", "spikes", "energy"])
    np.testing.assert_array_equal(exact.evaluate(genomes, data), values)
    np.testing.assert_allclose(values[:, 1], -values[:, 0] / 10, rtol=0.2)  # mean |error| ~ -return / steps
    assert not np.array_equal(fitness.evaluate(genomes, fitness.generation_data(5)), values)  # new episodes


def test_a_genome_whose_command_is_not_finite_scores_nan_and_the_others_fly_on(monkeypatch):
    """The plants refuse NaN and inf commands: such a genome's plant gets 0 instead and its score is NaN (the
    loop's worst), where the run crashed (or the plant turned NaN into a command of its own)."""
    fitness, problem = _blimp(1.0, 10, ["tracking_error"])
    genomes = problem.spec.parameters.sample(3, np.random.default_rng(3))
    data = fitness.generation_data(0)
    clean = fitness.evaluate(genomes, data)
    act = closed_loop.SNNPolicy.act_on_inputs

    def nan_for_the_second_genome(self, x):
        action = np.array(act(self, x), dtype=np.float64)
        action[2:4] = np.nan  # copies 2 and 3: genome 1's two episodes
        return action

    monkeypatch.setattr(closed_loop.SNNPolicy, "act_on_inputs", nan_for_the_second_genome)
    values = fitness.evaluate(genomes, data)
    assert np.isnan(values[1]).all() and np.array_equal(values[[0, 2]], clean[[0, 2]])


def test_a_copy_whose_observation_the_network_cannot_read_scores_nan_and_the_others_fly_on(monkeypatch):
    """A network without sample hold refuses a NaN input (it would silence it for good): that copy reads 0, its
    genome scores NaN, the run goes on (the refusal crashed the whole evaluation)."""
    lost_returns = {**BLIMP_IO["observation"], "valid": [0.0, 12.0]}  # a reading out of range is a lost sample
    fitness, problem = _blimp(1.0, 10, ["tracking_error"], io={**BLIMP_IO, "observation": lost_returns})
    genomes = problem.spec.parameters.sample(3, np.random.default_rng(3))
    data = fitness.generation_data(0)
    clean = fitness.evaluate(genomes, data)

    class WithoutSampleHold(closed_loop.SNNPolicy):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.holds_samples = False

    step = CoreVectorEnv.step

    def reading(bad: float):
        def unreadable_for_the_last_genome(self, actions):
            obs, *rest = step(self, actions)
            obs = obs.copy()
            obs[4:6] = bad  # copies 4 and 5: genome 2's two episodes
            return (obs, *rest)

        return unreadable_for_the_last_genome

    monkeypatch.setattr(closed_loop, "SNNPolicy", WithoutSampleHold)
    for bad in (np.nan, 1e6):  # NaN, and a finite value the adapter's valid range turns into NaN
        monkeypatch.setattr(CoreVectorEnv, "step", reading(bad))
        values = fitness.evaluate(genomes, data)
        assert np.isnan(values[2]).all() and np.array_equal(values[:2], clean[:2])


def test_closed_loop_without_resampling_flies_the_same_episodes_every_generation():
    fixed, problem = _blimp(1.0, 10, ["return"], resample_episodes=False)
    seeds = [fixed.generation_data(g)["seeds"] for g in (0, 1, 7)]
    np.testing.assert_array_equal(seeds[0], seeds[1])
    np.testing.assert_array_equal(seeds[0], seeds[2])
    assert len(set(seeds[0].tolist())) == 2  # still two different episodes
    resampled, _ = _blimp(1.0, 10, ["return"])
    np.testing.assert_array_equal(resampled.generation_data(0)["seeds"], seeds[0])  # generation 0's episodes
    genomes = problem.spec.parameters.sample(3, np.random.default_rng(0))
    np.testing.assert_array_equal(fixed.evaluate(genomes, fixed.generation_data(9)),
                                  resampled.evaluate(genomes, resampled.generation_data(0)))


def test_itae_and_steady_state_count_each_error_by_the_steps_since_the_set_point_last_changed():
    steps = 59
    schedule = {"kind": "levels", "values": [0.8, 1.2], "hold_s": 3.0}
    fitness, problem = _fitness({"kind": "closed_loop", "io": BLIMP_IO, "steady_after_steps": 12,
                                 "objectives": ["tracking_error", "itae", "steady_state"],
                                 "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": steps, "episodes": 1,
                                         "kwargs": {"episode_length_s": 6.0, "schedule": schedule}}})
    genome = problem.spec.parameters.sample(1, np.random.default_rng(7))[0]
    data = fitness.generation_data(0)
    tracking, itae, steady = fitness.evaluate(genome[None], data)[0]
    # The same flight recorded step by step: row k + 1 holds the error after step k.
    controller = Controller(problem.spec, genome, io=IOAdapters.from_dict(BLIMP_IO), dtype=fitness.net.dtype)
    flight = fly_blimp(SNNPolicy.of(controller), int(data["seeds"][0]), episode_length_s=6.0, schedule=schedule)
    error = np.abs(flight.setpoint - flight.altitude)[1 : steps + 1]
    setpoint = flight.setpoint[1 : steps + 1]
    held = np.zeros(steps)
    for k in range(1, steps):
        held[k] = held[k - 1] + 1 if setpoint[k] == setpoint[k - 1] else 0.0
    assert held[29] == 0.0 and held[28] == 28.0  # the set-point changed at 3 s (after step 29)
    np.testing.assert_allclose(tracking, error.mean(), rtol=1e-6)
    np.testing.assert_allclose(itae, (held * error).sum() / held.sum(), rtol=1e-6)
    np.testing.assert_allclose(steady, error[held >= 12].mean(), rtol=1e-6)  # the last 18 and 17 steps of each hold
    assert not np.isclose(steady, tracking, rtol=1e-3)


def _shipped_fitness(env: dict, objectives: list[str], **options: object):
    from snncontrol.controllers import SHIPPED

    strategy = "nsga2" if len(objectives) > 1 and not options.get("weights") else "cmaes"
    return build_fitness(parse_config({
        "generations": 1, "network": {"artifact": str(SHIPPED["blimp"])}, "strategy": {"name": strategy},
        "fitness": {"kind": "closed_loop", "env": env, "objectives": objectives, **options}}),
        resolve_network(NetworkConfig(artifact=str(SHIPPED["blimp"]))))


SHIPPED_ENV = {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 300, "episodes": 1,  # the whole episode
               "kwargs": {"episode_length_s": 30.0, "initial_altitude_range": [1.0, 1.0],
                          "schedule": {"kind": "levels", "values": [0.6, 1.4, 0.8], "hold_s": 10.0}}}


def test_objective_and_report_agree_exactly_on_overshoot_and_steady_state_of_the_same_flight():
    from snncontrol.controllers import SHIPPED

    controller = load_controller(SHIPPED["blimp"])
    fitness = _shipped_fitness(SHIPPED_ENV, ["overshoot", "steady_state"], steady_after_steps=50)
    data = fitness.generation_data(0)
    overshoot, steady = fitness.evaluate(controller.genome[None], data)[0]
    flight = fly_blimp(SNNPolicy.of(controller), int(data["seeds"][0]), **SHIPPED_ENV["kwargs"])
    report = flight.metrics(steady_after_s=5.0)  # 50 steps of 0.1 s
    assert overshoot > 0.005  # a real overshoot to compare (about 1 cm)
    assert overshoot == report.overshoot and steady == report.steady_state_error
    *held, last = report.segments  # the flight's last sample already shows the 4th set-point: 0 past it
    assert len(held) == 3 and all(s.full for s in held) and not last.full and last.overshoot == 0.0


def test_a_weighted_sum_of_objectives():
    from snncontrol.controllers import SHIPPED

    controller = load_controller(SHIPPED["blimp"])
    fitness = _shipped_fitness(SHIPPED_ENV, ["itae", "overshoot"])
    data = fitness.generation_data(0)
    itae, overshoot = fitness.evaluate(controller.genome[None], data)[0]
    weighted = _shipped_fitness(SHIPPED_ENV, ["itae", "overshoot"], weights=[1, 0.5])
    np.testing.assert_allclose(weighted.evaluate(controller.genome[None], data), [[itae + 0.5 * overshoot]])
    alone = _shipped_fitness(SHIPPED_ENV, ["overshoot"])
    assert alone.evaluate(controller.genome[None], data)[0, 0] == overshoot  # without itae beside it
    with pytest.raises(ConfigError, match="one value per objective"):
        parse_config({"generations": 1, "network": TINY_NET, "strategy": {"name": "cmaes"},
                      "fitness": {"kind": "closed_loop", "env": SHIPPED_ENV, "objectives": ["itae"],
                                  "weights": [1, 2]}})


def test_closed_loop_champion_is_the_best_on_fixed_validation_episodes(tmp_path, monkeypatch):
    data = blimp_config(generations=4, output={"checkpoint_every": 2, "plot_every": 1000})
    data["fitness"]["validation_episodes"] = 2
    flown = []  # (genomes, episode seeds) of every evaluation, the generations' and the validations'
    evaluate = closed_loop.ClosedLoopFitness.evaluate

    def recorded(self, genomes, episodes):
        flown.append((len(genomes), [int(seed) for seed in episodes["seeds"]]))
        return evaluate(self, genomes, episodes)

    monkeypatch.setattr(closed_loop.ClosedLoopFitness, "evaluate", recorded)
    experiment = run(data, tmp_path)
    losses = [float(row["train_loss"]) for row in logbook(tmp_path) if row.get("train_loss")]
    assert len(losses) == 2
    _, genome, metadata, _ = read_artifact(tmp_path / "best")
    # Scored again now, long after its generation: the validation episodes do not change with the generation.
    assert metadata.extra["selection_loss"] == min(losses) == experiment.fitness.selection_loss(genome)
    # ... and are held out: the run's validation key, none of them an episode any generation trained on
    training = [seeds for genomes, seeds in flown if genomes == 6]  # the population
    assert training == [experiment.fitness.generation_data(g)["seeds"].tolist() for g in range(4)]
    validation = [derive_seed(data["seed"], VALIDATION_KEY, k) for k in range(2)]
    validations = [seeds for genomes, seeds in flown if genomes == 1]  # at the checkpoints, and just now
    assert len(validations) >= 3 and all(seeds == validation for seeds in validations)
    assert not set(validation) & {seed for seeds in training for seed in seeds}


def test_fine_tuning_never_returns_a_controller_worse_than_its_start(tmp_path):
    """Started from a controller that flies, with sigma so large that every sample is a wild guess, the
    champion stays the controller it was given (scored on the validation episodes before the first generation)."""
    from snncontrol.controllers import SHIPPED

    data = blimp_config(generations=2, output={"checkpoint_every": 1, "plot_every": 1000})
    data["network"] = {"artifact": str(SHIPPED["blimp"])}
    strategy = {"name": "cmaes", "population": 4, "sigma": 0.9, "out_of_bounds": "clip", "covariance": "diagonal"}
    data["strategy"] = strategy
    data["fitness"]["env"]["kwargs"] = {"episode_length_s": 20.0, "initial_altitude_range": [0.9, 1.1]}
    data["fitness"]["env"]["episode_steps"] = 200
    data["fitness"].pop("io")  # the artifact's own adapters
    data["fitness"]["validation_episodes"] = 2
    tuned = run(data, tmp_path)
    _, seed_genome, _, _ = read_artifact(SHIPPED["blimp"])
    _, genome, metadata, _ = read_artifact(tmp_path / "best")
    seed_loss = tuned.fitness.selection_loss(seed_genome)
    losses = [float(row["train_loss"]) for row in logbook(tmp_path)]
    assert seed_loss < min(losses)  # every wild sample flies worse than the start ...
    assert metadata.extra["selection_loss"] == seed_loss and metadata.fitness is None  # ... which is returned
    np.testing.assert_array_equal(genome, seed_genome)


def test_gymnasium_swimmer_through_sync_vector_env_and_select_adapter():
    spec = {"version": 1, "n_inputs": 2, "dt": 0.04, "layers": [
        {"name": "hidden", "size": 4, "neuron": {"kind": "lif"}, "bias": True},
        {"name": "readout", "size": 2, "neuron": {"kind": "li"}}]}
    fitness, problem = _fitness({"kind": "closed_loop", "objectives": ["return"], "env": {
        "id": "Swimmer-v5", "episode_steps": 20},
        "io": {"observation": {"kind": "select", "indices": [1, 2]},
               "action": {"kind": "affine_clip", "low": -1, "high": 1}}}, network={"spec": spec})
    genomes = problem.spec.parameters.sample(3, np.random.default_rng(0))
    values = fitness.evaluate(genomes, fitness.generation_data(0))
    assert values.shape == (3, 1) and np.all(np.isfinite(values))
    np.testing.assert_array_equal(fitness.evaluate(genomes[1:], fitness.generation_data(0)), values[1:])


def test_adapter_that_does_not_fit_the_network_is_refused():
    with pytest.raises(ConfigError, match=r"makes 2 input.*the network takes 1"):
        _fitness({"kind": "closed_loop", "io": {"observation": {"kind": "identity"}}, "env": {
            "id": "sim_envs/BlimpAltitude-v0", "episode_steps": 5}})


def test_an_env_keyword_the_env_cannot_take_is_one_config_error():
    """Swimmer-v5 with frame_skip 0 divides by zero in its constructor: a one-line ConfigError, not a traceback."""
    spec = {"version": 1, "n_inputs": 2, "dt": 0.04, "layers": [
        {"name": "hidden", "size": 4, "neuron": {"kind": "lif"}, "bias": True},
        {"name": "readout", "size": 2, "neuron": {"kind": "li"}}]}
    with pytest.raises(ConfigError, match=r"cannot make 'Swimmer-v5': ZeroDivisionError: float division by zero"):
        _fitness({"kind": "closed_loop", "objectives": ["return"], "env": {
            "id": "Swimmer-v5", "episode_steps": 20, "kwargs": {"frame_skip": 0}},
            "io": {"observation": {"kind": "select", "indices": [1, 2]},
                   "action": {"kind": "affine_clip", "low": -1, "high": 1}}}, network={"spec": spec})


def test_a_steady_state_no_episode_reaches_is_a_config_error_not_a_perfect_score():
    """A 3 s hold is 30 control steps: with steady_after_steps 100 no sample counted and every genome scored 0."""
    env = {**SHIPPED_ENV, "kwargs": {**SHIPPED_ENV["kwargs"], "schedule": {"kind": "levels", "values": [0.6, 1.4],
                                                                            "hold_s": 3.0}}}
    fitness = _shipped_fitness(env, ["steady_state"], steady_after_steps=100)
    genome = fitness.net.spec.parameters.initial()
    with pytest.raises(ConfigError, match=r"fitness.steady_after_steps: no set-point was held 100 steps"):
        fitness.evaluate(genome[None], fitness.generation_data(0))


def test_segment_objectives_refuse_a_ramped_schedule():
    """During a ramp every step is its own set-point: itae and steady_state had nothing held to measure."""
    ramped = {**SHIPPED_ENV, "kwargs": {**SHIPPED_ENV["kwargs"], "schedule": {
        "kind": "levels", "values": [0.6, 1.4], "hold_s": 10.0, "ramp_s": 2.0}}}
    config = {"generations": 1, "network": TINY_NET, "strategy": {"name": "cmaes"},
              "fitness": {"kind": "closed_loop", "env": ramped, "objectives": ["itae"]}}
    with pytest.raises(ConfigError, match=r"\['itae'\] are measured per held set-point; a schedule with ramp_s"):
        parse_config(config)
    parse_config({**config, "fitness": {**config["fitness"], "objectives": ["tracking_error"]}})  # fine


def test_a_network_stepping_at_another_period_than_the_plant_is_refused():
    with pytest.raises(ConfigError, match=r"network.dt: the network steps every 0.05 s and .* every 0.1 s"):
        _fitness({"kind": "closed_loop", "io": BLIMP_IO, "objectives": ["tracking_error"],
                  "env": {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 10, "episodes": 1}},
                 {**TINY_NET, "kwargs": {**TINY_NET["kwargs"], "dt": 0.05}})


@pytest.mark.parametrize(("bias_n", "on_the_floor"), [(-0.02, True), (0.02, False)])
def test_contacts_count_the_samples_on_the_floor_as_the_evaluation_does(bias_n, on_the_floor):
    """A network that commands nothing: a heavier-than-air blimp sinks to the floor and stays (the objective near
    1), a lighter one rises (0). The count is Flight.contacts' of the same flight (altitude <= 0.02 m from 5 s on),
    plus the sample after the last step, which the flight's rows end before."""
    env = {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 200, "episodes": 1,
           "kwargs": {"episode_length_s": 20.0, "buoyancy_bias_range": [bias_n, bias_n],
                      "initial_altitude_range": [0.5, 0.5]}}
    fitness, problem = _fitness({"kind": "closed_loop", "env": env, "io": BLIMP_IO, "objectives": ["contacts"]})
    silent = problem.spec.parameters.clip(np.zeros(problem.spec.parameters.size))  # every weight 0: command 0
    data = fitness.generation_data(0)
    contacts = fitness.evaluate(silent[None], data)[0, 0]
    controller = Controller(problem.spec, silent, io=IOAdapters.from_dict(BLIMP_IO))
    flight = fly_blimp(SNNPolicy.of(controller), int(data["seeds"][0]), **env["kwargs"])
    assert np.all(flight.command == 0.0)
    judged = 200 - 49  # the samples after steps 49 .. 199, at 5.0 .. 20.0 s
    assert contacts * judged == pytest.approx(flight.contacts() + int(flight.end_altitude <= 0.02))
    assert (contacts > 0.8) if on_the_floor else (contacts == 0.0)
    with pytest.raises(ConfigError, match=r"fitness\.contact_key: .* reports no info\['ground'\]"):
        fitness, _ = _fitness({"kind": "closed_loop", "env": env, "io": BLIMP_IO, "objectives": ["contacts"],
                               "contact_key": "ground"})
        fitness.evaluate(silent[None], data)


def test_contacts_judged_after_the_episode_ends_is_a_config_error():
    """contact_after_steps at or past the episode's steps judged no sample: contacts scored 0 for every genome."""
    env = {"id": "sim_envs/BlimpAltitude-v0", "episode_steps": 100, "episodes": 1}
    with pytest.raises(ConfigError, match=r"contact_after_steps \(100\) must be below env.episode_steps \(100\)"):
        _fitness({"kind": "closed_loop", "env": env, "io": BLIMP_IO, "objectives": ["contacts"],
                  "contact_after_steps": 100})
