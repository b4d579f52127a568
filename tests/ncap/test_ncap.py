"""NCAP swimmer controller: wiring, sign constraints, faithfulness to the paper, swimming, artifact, tools."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

from snncontrol.artifacts import Metadata, load_controller, read_artifact, save_controller
from snncontrol.controllers.ncap import (
    PERIOD,
    effective_weights,
    mlp_spec,
    ncap_genome,
    ncap_io,
    ncap_options,
    ncap_spec,
    ncap_weights,
    paper_genome,
    retarget,
    retarget_population,
    with_commands,
)
from snncontrol.errors import SnnControlError, SpecError
from snncontrol.evaluation.swimming import Perturbation, swim
from snncontrol.network import Network

SHIPPED = "snncontrol/controllers/swimmer_ncap"


def weights_of(spec, genome):
    net = Network(spec)
    params = net.params(genome, check_bounds=False)
    return {layer.name: net.layer_weights(params, k).numpy() for k, layer in enumerate(spec.layers)}, net, params


def paper_forward(q_norm: np.ndarray, t: int, w: dict[str, float], period: int = PERIOD) -> np.ndarray:
    """The paper's graded NCAP step (Bhattasali et al. 2022, reference swimmer module), for one body."""
    exc, inh = (lambda x: max(x, 0.0)), (lambda x: min(x, 0.0))
    graded = lambda x: float(np.clip(x, 0.0, 1.0))  # noqa: E731
    q_d, q_v = np.clip(q_norm, 0, 1), -np.clip(q_norm, -1, 0)
    osc_d = 1.0 if t % period < period // 2 else 0.0
    torques = []
    for i in range(len(q_norm)):
        b_d = b_v = 0.0
        if i > 0:
            b_d += q_d[i - 1] * exc(w["proprioceptive"])
            b_v += q_v[i - 1] * exc(w["proprioceptive"])
        else:
            b_d += osc_d * exc(w["oscillator"])
            b_v += (1.0 - osc_d) * exc(w["oscillator"])
        b_d, b_v = graded(b_d), graded(b_v)
        m_d = graded(b_d * exc(w["ipsilateral"]) + b_v * inh(w["contralateral"]))
        m_v = graded(b_v * exc(w["ipsilateral"]) + b_d * inh(w["contralateral"]))
        torques.append(m_d - m_v)
    return np.array(torques)


@pytest.mark.parametrize("n_links", [3, 8])
@pytest.mark.parametrize("variant", ["graded", "spiking"])
def test_wiring(n_links, variant):
    spec = ncap_spec(n_links, variant)
    n_j = n_links - 1
    assert spec.parameters.size == 4
    assert spec.parameters.names == ["bneuron.w_in", "muscle.w_in"]
    assert [layer.name for layer in spec.layers] == ["sensory", "bneuron", "muscle", "torque"]
    assert spec.n_inputs == n_j and spec.n_outputs == n_j
    w = {"proprioceptive": 0.7, "oscillator": 1.3, "ipsilateral": 0.9, "contralateral": -0.4}
    layers, _, _ = weights_of(spec, ncap_genome(spec, w))
    b, m, tq = layers["bneuron"][0], layers["muscle"][0], layers["torque"][0]
    ring = 2 * n_j
    expected_b = np.zeros((2 * n_j + PERIOD, 2 * n_j))
    for i in range(1, n_j):  # proprioception from the previous joint, same side, one shared weight
        expected_b[2 * (i - 1), 2 * i] = expected_b[2 * (i - 1) + 1, 2 * i + 1] = 0.7
    expected_b[ring : ring + PERIOD // 2, 0] = 1.3  # oscillator: dorsal half -> B_d of joint 0
    expected_b[ring + PERIOD // 2 : ring + PERIOD, 1] = 1.3  # ventral half -> B_v of joint 0
    np.testing.assert_allclose(b, expected_b, atol=1e-7)
    expected_m = np.zeros((2 * n_j, 2 * n_j))
    for i in range(n_j):
        expected_m[2 * i, 2 * i] = expected_m[2 * i + 1, 2 * i + 1] = 0.9  # ipsilateral
        expected_m[2 * i, 2 * i + 1] = expected_m[2 * i + 1, 2 * i] = -0.4  # contralateral
    np.testing.assert_allclose(m, expected_m, atol=1e-7)
    assert np.all(tq[0::2] >= 0) and np.all(tq[1::2] <= 0) and np.count_nonzero(tq) == 2 * n_j
    # the sensory split reads each angle +1 (dorsal) / -1 (ventral); nothing in it is evolvable
    s = layers["sensory"][0]
    for j in range(n_j):
        assert s[j, 2 * j] == 1.0 and s[j, 2 * j + 1] == -1.0
    assert ncap_weights(spec, ncap_genome(spec, w)) == pytest.approx(w)
    assert ncap_options(spec)["n_links"] == n_links


def test_paper_initialization():
    spec = ncap_spec(5, "graded")
    assert ncap_weights(spec, paper_genome(spec)) == {
        "proprioceptive": 1.0,
        "oscillator": 1.0,
        "ipsilateral": 1.0,
        "contralateral": -1.0,
    }


@pytest.mark.parametrize("variant", ["graded", "spiking"])
def test_sign_constraints_hold_for_any_genome(variant):
    rng = np.random.default_rng(0)
    spec = ncap_spec(6, variant, speed=True, turn=True)
    assert spec.parameters.size == 6
    genomes = np.concatenate(
        [
            spec.parameters.sample(200, rng),
            np.array([spec.parameters.low, spec.parameters.high]),
            rng.normal(0.0, 10.0, (50, spec.parameters.size)),  # far outside the bounds
        ]
    )
    net = Network(spec)
    params = net.params(genomes, check_bounds=False)
    for k, layer in enumerate(spec.layers[1:3], start=1):
        w = net.layer_weights(params, k).numpy()
        sign = layer.input.sign
        assert np.all(w[:, sign > 0] >= 0) and np.all(w[:, sign < 0] <= 0) and np.all(w[:, sign == 0] == 0)
    # a genome with every sign wrong gives a silent circuit, not an inverted one
    wrong = ncap_genome(
        spec, {"proprioceptive": -1, "oscillator": -1, "speed": 1, "turn": -1, "ipsilateral": -1, "contralateral": 1}
    )
    layers, _, _ = weights_of(spec, wrong)
    assert not layers["bneuron"].any() and not layers["muscle"].any()
    assert effective_weights({"oscillator": -0.5, "contralateral": 0.5}) == {"oscillator": 0.0, "contralateral": 0.0}


def test_graded_matches_paper_circuit():
    n_links, steps = 7, 2 * PERIOD + 17
    rng = np.random.default_rng(1)
    spec = ncap_spec(n_links, "graded")
    w = {"proprioceptive": 1.4, "oscillator": 0.8, "ipsilateral": 1.7, "contralateral": -0.6}
    net = Network(spec)
    params = net.params(ncap_genome(spec, w))
    q = rng.uniform(-1.3, 1.3, (steps, 1, n_links - 1))
    out, _ = net.rollout(params, q, net.init_state(1))
    expected = np.stack([paper_forward(q[t, 0], t, w) for t in range(steps)])
    np.testing.assert_allclose(out[:, 0].numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("variant", ["graded", "spiking"])
def test_oscillator_is_a_square_wave(variant):
    spec = ncap_spec(4, variant)
    net = Network(spec)
    params = net.params(paper_genome(spec))
    trace = net.trace(params, torch.zeros(3 * PERIOD, 1, 3), net.init_state(1))
    ring = trace.layers["sensory"][:, 0, 6:].numpy()
    assert np.all(ring.sum(1) == 1)  # exactly one pacemaker neuron active per step
    dorsal = ring[:, : PERIOD // 2].sum(1)
    t = np.arange(3 * PERIOD)
    np.testing.assert_array_equal(dorsal, (t % PERIOD < PERIOD // 2).astype(float))
    b = trace.layers["bneuron"][:, 0, :2].numpy()  # joint 0 B-neurons follow the oscillator halves
    if variant == "graded":
        np.testing.assert_array_equal(b[:, 0], dorsal)
        np.testing.assert_array_equal(b[:, 1], 1 - dorsal)
    else:
        assert b[dorsal == 1, 0].mean() > 0.4 and b[dorsal == 0, 0].sum() == 0


def test_speed_and_turn_inputs():
    spec = ncap_spec(4, "graded", speed=True, turn=True)
    assert spec.n_inputs == 3 + 1 + 2 and spec.parameters.size == 6
    net = Network(spec)
    params = net.params(spec.parameters.initial())
    x = with_commands(np.zeros((1, 3)), speed=1.0, turn=(0.0, 0.0))
    assert x.shape == (1, 6) and x[0, 3] == 0.0  # full speed: no brake
    assert with_commands(np.zeros((2, 3)), speed=np.array([0.25, 7.0]))[:, 3].tolist() == [0.75, 0.0]  # clamped
    quiet = torch.as_tensor(with_commands(np.full((PERIOD, 1, 3), 0.5), speed=0.0, turn=(0.0, 0.0)))
    trace = net.trace(params, quiet, net.init_state(1))
    assert not trace.layers["bneuron"].any()  # speed 0: the full brake silences every B-neuron
    right = torch.as_tensor(with_commands(np.zeros((PERIOD, 1, 3)), speed=1.0, turn=(1.0, 0.0)))
    trace = net.trace(params, right, net.init_state(1))
    assert trace.layers["bneuron"][:, 0, 0].min() == 1.0  # turn right excites the head's dorsal B-neuron


@pytest.mark.parametrize("variant", ["graded", "spiking"])
def test_speed_command_stops_and_turn_commands_steer_the_swimmer(variant):
    spec = ncap_spec(6, variant, speed=True, turn=True)
    commands = {
        "go": (1.0, (0.0, 0.0)),
        "stop": (0.0, (0.0, 0.0)),
        "right": (1.0, (0.5, 0.0)),
        "left": (1.0, (0.0, 0.5)),
    }  # speed (1: full, the paper's reference code's meaning), (turn right, turn left)
    r = {
        name: swim(spec, paper_genome(spec), ncap_io(6), 6, steps=300, speed=speed, turn=turn)
        for name, (speed, turn) in commands.items()
    }
    assert r["go"].speeds[0] > 0.05 and r["stop"].speeds[0] < 0.1 * r["go"].speeds[0]  # m/s
    assert r["right"].yaw_rates[0] < -0.15 and r["left"].yaw_rates[0] > 0.15  # rad/s, counter-clockwise > 0
    assert min(r["right"].speeds[0], r["left"].speeds[0]) > 0.5 * r["go"].speeds[0]  # turning while swimming


@pytest.mark.parametrize("variant", ["graded", "spiking"])
def test_paper_initialization_swims_forward(variant):
    spec = ncap_spec(6, variant)
    result = swim(spec, paper_genome(spec), ncap_io(6), 6, seeds=(0, 1))
    assert result.speeds.min() > 0.05  # m/s, head forward
    assert result.returns.min() > 650


def test_mlp_baseline_is_a_core_network():
    spec = mlp_spec(6)
    assert spec.parameters.size == 5317
    assert spec.n_inputs == 5 and spec.n_outputs == 5


def test_shipped_artifact_exports_to_nir(tmp_path):
    from snncontrol.commands import export_nir
    from snncontrol.nir_io import load_nir

    parser = argparse.ArgumentParser()
    export_nir.add_arguments(parser)
    assert export_nir.run(parser.parse_args([SHIPPED, str(tmp_path / "ncap.nir")])) == 0
    spec, genome, _, _ = read_artifact(SHIPPED)
    spec2, genome2 = load_nir(tmp_path / "ncap.nir")
    net, net2 = Network(spec), Network(spec2)
    x = torch.as_tensor(np.random.default_rng(0).uniform(-1, 1, (2 * PERIOD, 1, spec.n_inputs)))
    a, _ = net.rollout(net.params(genome), x, net.init_state(1))
    b, _ = net2.rollout(net2.params(genome2), x, net2.init_state(1))
    assert a.abs().sum() > 0
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_graded_variant_is_not_nir_exportable():
    from snncontrol.nir_io import export_nir

    with pytest.raises(SpecError, match="Graded"):
        export_nir(ncap_spec(4, "graded"), paper_genome(ncap_spec(4, "graded")))


def test_retarget_and_artifact_roundtrip(tmp_path):
    spec = ncap_spec(6, "spiking")
    w = {"proprioceptive": 1.2, "oscillator": 0.9, "ipsilateral": 1.1, "contralateral": -0.3}
    path = save_controller(tmp_path / "c", spec, ncap_genome(spec, w), Metadata(seed=0), ncap_io(6))
    spec_r, genome_r, _, _io_r = read_artifact(path)
    same_spec, same_genome, _ = retarget(spec_r, genome_r, 6)
    assert same_spec.to_dict() == spec.to_dict() and np.array_equal(same_genome, genome_r)
    spec10, genome10, io10 = retarget(spec_r, genome_r, 10)
    assert spec10.n_inputs == 9 and ncap_weights(spec10, genome10) == pytest.approx(w)
    assert io10.observation.indices == tuple(range(9))
    assert io10.observation.scale[0] == pytest.approx(10 / (2 * np.pi))


def test_shipped_artifact_swims_forward_on_4_6_10_links():
    spec, genome, _meta, _ = read_artifact(SHIPPED)
    assert ncap_options(spec)["variant"] == "spiking" and spec.parameters.size == 4
    for n in (4, 6, 10):
        s, g, io = retarget(spec, genome, n)
        result = swim(s, g, io, n, seeds=(3,))
        assert result.speeds[0] > 0.02, n
    assert load_controller(SHIPPED).spec.name == spec.name


def test_the_body_envelope_ncap_names_its_run_and_swims_a_long_link_body_the_single_body_one_barely_moves():
    """A held-out body of benchmarks/ncap_bodies.py (5 links of 0.18 m, weak motors): the NCAP evolved on one body
    reached 66 there, the paper's circuit 97, the one evolved over the envelope 189."""
    spec, envelope, metadata, _ = read_artifact(SHIPPED + "_bodies")
    assert metadata.extra["evolve_run"]["config"] == "configs/ncap_bodies.yaml"
    single = read_artifact(SHIPPED)[1]
    body = {"link_length": 0.179, "gear": 2.98e-4, "viscosity": 5.9e-3, "density": 2509.0}
    s, genomes, io = retarget_population(spec, np.stack([single, envelope, paper_genome(spec)]), 5)
    returns = swim(s, genomes, io, 5, seeds=(20000,), env_kwargs=body).returns
    assert returns[1] > 1.5 * max(returns[0], returns[2]), returns


def test_shipped_controller_drives_gymnasium_swimmer_v5_without_retraining():
    import gymnasium as gym

    spec, genome, _, _ = read_artifact(SHIPPED)
    spec3, genome3, _ = retarget(spec, genome, 3)
    io = ncap_io(3, first_angle=1)  # Swimmer-v5 observation: body angle, 2 joint angles (rad), 5 velocities
    assert io.observation.indices == (1, 2)
    net = Network(spec3)
    params, state = net.params(genome3), net.init_state(1)
    env = gym.make("Swimmer-v5")
    obs, _ = env.reset(seed=0)
    x_velocity = []
    for _ in range(300):  # 12 s at 0.04 s per step
        out, state = net.step(params, torch.as_tensor(io.observation(obs[None]), dtype=net.dtype), state)
        obs, _, _, _, info = env.step(io.action(out.double().numpy())[0])
        x_velocity.append(info["x_velocity"])
    env.close()
    assert np.mean(x_velocity) > 0.03  # m/s forward (about 0.06 here, 0.1 once past the start)


def test_eval_swimmer_command(capsys, tmp_path):
    import imageio.v2 as imageio

    from snncontrol.commands import eval_swimmer

    parser = argparse.ArgumentParser()
    eval_swimmer.add_arguments(parser)
    video = tmp_path / "swim.mp4"
    args = ["swimmer_ncap", "--links", "5", "--episodes", "2", "--steps", "30", "--video", str(video)]
    assert eval_swimmer.run(parser.parse_args(args)) == 0
    out = capsys.readouterr().out
    assert "return" in out and "forward speed" in out and "5 links" in out and f"video: {video}" in out
    with imageio.get_reader(video) as reader:
        frames = [frame for frame in reader]
    assert len(frames) == 31 and frames[0].shape == (360, 480, 3)  # the reset frame and one per control step
    assert frames[0].std() > 0  # a rendered scene, not a blank image
    env = eval_swimmer.video_env(eval_swimmer.PLANT, 5, 1500, 48, 48)  # the plant's episodes ended at 1000 steps
    try:
        assert env.unwrapped.core.max_episode_steps == 1500
    finally:
        env.close()


def test_bad_arguments():
    with pytest.raises(SpecError):
        ncap_spec(1)
    with pytest.raises(SpecError):
        ncap_spec(4, "analog")
    with pytest.raises(SpecError):
        ncap_spec(4, period=7)
    with pytest.raises(SpecError):
        ncap_options(mlp_spec(3))
    assert ncap_spec(2).n_outputs == 1  # a single joint: oscillator only


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"hidden": []}, "hidden sizes"), ({"hidden": [0, 4]}, "hidden sizes"), ({"hidden": [4.5]}, "hidden sizes"),
     ({"period": 0}, "period"), ({"period": 3}, "period"), ({"n_links": 0}, "links")],
)
def test_the_mlp_baseline_refuses_bad_settings_in_one_line(kwargs, message):
    """Through `snncontrol evolve` these were tracebacks (IndexError, OverflowError, negative dimensions), or a
    period of 3 gave uneven oscillator halves."""
    with pytest.raises(SpecError, match=message):
        mlp_spec(**kwargs)


@pytest.mark.parametrize(
    ("perturbation", "message"),
    [({"viscosity": -1.0}, "viscosity must be a finite number >= 0"),  # swam as no viscosity at all
     ({"viscosity": float("nan")}, "viscosity must be a finite number >= 0"),
     ({"density": -3000.0}, "density must be a finite number >= 0"),
     ({"obs_noise": -0.1}, "obs_noise must be a finite number >= 0"),  # a numpy error mid-swim
     ({"silence_dorsal": -1}, "silence_dorsal must be a joint index >= 0")],  # silenced the tail joint
)
def test_a_perturbation_that_means_nothing_is_refused_in_one_line(perturbation, message):
    with pytest.raises(SnnControlError, match=message):
        Perturbation(**perturbation)


def test_swim_refuses_commands_and_joints_the_body_does_not_have():
    spec, io = ncap_spec(4), ncap_io(4)
    genome = paper_genome(spec)
    with pytest.raises(SnnControlError, match=r"joints 0\.\.2"):
        swim(spec, genome, io, 4, steps=2, perturbation=Perturbation(silence_dorsal=7))
    commanded = ncap_spec(4, speed=True)
    for speed in (-100.0, 1.5, float("nan")):  # -100 swam exactly as 0
        with pytest.raises(SnnControlError, match=r"speed command must be a number in \[0, 1\]"):
            swim(commanded, paper_genome(commanded), ncap_io(4), 4, steps=2, speed=speed)


def test_a_genomes_noisy_result_does_not_depend_on_what_it_is_swum_with():
    """The noise was drawn for the whole batch: the shipped controller scored 893.1 alone and 886.1 second in a
    batch; every genome now sees, episode by episode, the noise it would alone."""
    controller = load_controller(SHIPPED)
    spec, io = controller.spec, controller.io
    noisy = Perturbation(obs_noise=0.1)
    alone = swim(spec, controller.genome, io, 6, seeds=(0, 1), steps=200, perturbation=noisy)
    other = paper_genome(spec)
    together = swim(spec, np.stack([other, controller.genome]), io, 6, seeds=(0, 1), steps=200, perturbation=noisy)
    assert together.returns[1] == alone.returns[0] and together.returns[0] != together.returns[1]


def test_net_speed_is_signed_backwards_is_negative():
    """The net speed is the head's displacement along its mean heading, so a body swimming backwards has a negative
    one: the shipped NCAP with its angle scale negated swims tail first (head-frame speed < 0), which the
    displacement's length alone counted as forward (+0.0157 m/s over 1000 steps)."""
    import dataclasses

    controller = load_controller(SHIPPED)
    spec, io = controller.spec, controller.io
    flipped = dataclasses.replace(io, observation=dataclasses.replace(
        io.observation, scale=-np.asarray(io.observation.scale)))
    forward = swim(spec, controller.genome, io, 6, seeds=(0,), steps=100, n_threads=1)
    backward = swim(spec, controller.genome, flipped, 6, seeds=(0,), steps=100, n_threads=1)
    assert forward.speeds[0] > 0 and forward.net_speeds[0] > 0.02
    assert backward.speeds[0] < 0 and backward.net_speeds[0] < -0.005


def test_swim_takes_the_plants_body_and_reports_net_speed(capsys):
    """The shipped NCAP swims forward on a body it was not evolved on; the net speed (displacement / time) is below
    the mean head-frame speed (which counts the head's sway); eval-swimmer sets the body in one line or refuses it."""
    controller = load_controller(SHIPPED)
    body = {"link_length": 0.15, "gear": 8e-4, "viscosity": 0.01, "density": 2000.0}
    result = swim(controller.spec, controller.genome, controller.io, 6, seeds=(0,), steps=300, env_kwargs=body)
    default = swim(controller.spec, controller.genome, controller.io, 6, seeds=(0,), steps=300)
    assert 0 < result.net_speeds[0] < result.speeds[0] and result.returns[0] != default.returns[0]
    from snncontrol.commands import eval_swimmer

    parser = argparse.ArgumentParser()
    eval_swimmer.add_arguments(parser)
    assert eval_swimmer.run(parser.parse_args(["swimmer_ncap", "--steps", "50", "--episodes", "1", "--gear",
                                               "8e-4", "--viscosity", "0.01"])) == 0
    assert "net speed" in capsys.readouterr().out
    for bad, message in ((["--gear", "-1"], "--gear must be a positive number"),
                         (["--gear", "2", "--steps", "50"], "physics became unstable"),  # MuJoCo reset the body
                         (["--env", "Swimmer-v5", "--links", "3", "--angles", "1", "2", "--density", "1000"],
                          "set the plant's body, not Swimmer-v5")):
        with pytest.raises(SnnControlError, match=message):
            eval_swimmer.run(parser.parse_args(["swimmer_ncap", "--steps", "5", *bad]))
