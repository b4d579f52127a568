"""NCAP on bodies it was not built for (issue #19): the clock oscillator's evolvable period, and a foreign
Gymnasium body (Swimmer-v5) end to end: evolve with the recipe config, save, eval-swimmer (video included)."""

from __future__ import annotations

import csv
from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest
import torch
import yaml

from snncontrol.adapters import IOAdapters
from snncontrol.cli import main as cli
from snncontrol.controllers.ncap import (
    ncap_genome,
    ncap_io,
    ncap_options,
    ncap_period,
    ncap_spec,
    paper_genome,
    retarget,
)
from snncontrol.errors import SpecError
from snncontrol.evaluation.swimming import swim
from snncontrol.network import Network

RECIPE = Path(__file__).resolve().parents[2] / "configs" / "ncap_swimmer_v5.yaml"
CHAMPION_WEIGHTS = {"proprioceptive": 0.79, "oscillator": 0.63, "ipsilateral": 1.14, "contralateral": -0.34}
CHAMPION_PERIOD = 37.67


def head_torque_rises(spec, genome, steps: int) -> np.ndarray:
    """Steps at which the head joint's torque turns positive (dorsal half on), open loop from rest."""
    net = Network(spec)
    trace = net.trace(net.params(genome), torch.zeros(steps, 1, spec.n_inputs), net.init_state(1))
    dorsal = trace.layers["torque"][:, 0, 0].numpy() > 0
    return np.nonzero(dorsal[1:] & ~dorsal[:-1])[0] + 1


@pytest.mark.parametrize("period", [8, 23.5, 60])
def test_the_clock_oscillators_evolved_half_period_sets_the_gait_period(period):
    spec = ncap_spec(3, "spiking", oscillator="clock")
    genome = ncap_genome(spec, {}, period)
    assert genome[0] == period / 2  # sensory.w_rec, the half period in control steps, comes first
    assert ncap_period(spec, genome) == period
    rises = head_torque_rises(spec, genome, 12 * int(period))
    assert len(rises) >= 10
    assert np.mean(np.diff(rises[1:])) == pytest.approx(period, abs=0.2)  # control steps per head stroke
    assert np.all(np.abs(np.diff(rises[1:]) - period) <= 1)  # each stroke within a step of it


def test_the_clock_is_an_option_of_the_spiking_circuit_and_the_ring_stays_the_default():
    ring, clock = ncap_spec(3, "spiking"), ncap_spec(3, "spiking", period=80, oscillator="clock", dt=0.04)
    assert "oscillator" not in ring.metadata and ring.parameters.size == 4
    assert ncap_options(clock)["oscillator"] == "clock" and clock.name == "ncap_spiking_3links_clock80"
    assert clock.parameters.names == ["sensory.w_rec", "bneuron.w_in", "muscle.w_in"]
    np.testing.assert_array_equal(clock.parameters.initial(), [40.0, 1.0, 1.0, 1.0, -1.0])  # paper init + period
    with pytest.raises(SpecError, match="spiking"):
        ncap_spec(3, "graded", oscillator="clock")
    with pytest.raises(SpecError, match="initial period"):
        ncap_spec(3, "spiking", period=2, oscillator="clock")
    with pytest.raises(SpecError, match="oscillator"):
        ncap_spec(3, "spiking", oscillator="metronome")


def test_the_clock_ncap_round_trips_through_nir():
    from snncontrol.nir_io import export_nir, import_nir

    spec = ncap_spec(3, "spiking", oscillator="clock")
    genome = ncap_genome(spec, {"proprioceptive": 0.8}, 30)
    spec2, genome2 = import_nir(export_nir(spec, genome))
    x = torch.rand(200, 1, 2) * 2 - 1
    torques = []
    for s, g in ((spec, genome), (spec2, genome2)):
        net = Network(s)
        torques.append(net.trace(net.params(g), x, net.init_state(1)).layers[s.layers[-1].name])
    torch.testing.assert_close(torques[0], torques[1], rtol=0, atol=0)


def test_retarget_keeps_an_evolved_period():
    spec = ncap_spec(3, "spiking", oscillator="clock", dt=0.04)
    genome = ncap_genome(spec, {"oscillator": 1.5}, 51.2)
    spec6, genome6, _ = retarget(spec, genome, 6)
    assert ncap_period(spec6, genome6) == pytest.approx(51.2) and spec6.dt == 0.04
    assert ncap_options(spec6)["oscillator"] == "clock"


def test_the_clock_ncap_swims_forward_on_swimmer_v5_and_on_the_plants_bodies():
    spec = ncap_spec(3, "spiking", oscillator="clock", period=72, dt=0.04)
    genome = paper_genome(spec)
    v5 = swim(spec, genome, ncap_io(3, angles=[1, 2]), 3, steps=300, env_id="Swimmer-v5")
    assert v5.speeds[0] > 0.02 and v5.returns[0] > 5  # m/s forward (x_velocity); Swimmer-v5's return
    for n_links in (4, 10, 13):
        result = swim(*retarget(spec, genome, n_links), n_links, steps=300)
        assert result.speeds[0] > 0.03, n_links  # m/s, head forward
    champion = ncap_genome(spec, CHAMPION_WEIGHTS, CHAMPION_PERIOD)  # evolved on Swimmer-v5 with its lead
    for n_links in (4, 10, 13):  # re-instantiated, reading the plant's angles alone
        assert swim(*retarget(spec, champion, n_links), n_links, steps=300).speeds[0] > 0.01, n_links


def test_the_recipes_lead_lets_the_tail_answer_the_head_in_time():
    # a champion of the recipe (seed 0 at lead 0.5 s: 4 shared weights + a 37.7-step period), one episode
    recipe = yaml.safe_load(RECIPE.read_text())
    spec = ncap_spec(**recipe["network"]["kwargs"])
    genome = ncap_genome(spec, CHAMPION_WEIGHTS, CHAMPION_PERIOD)
    spindle = IOAdapters.from_dict(recipe["fitness"]["io"])
    assert spindle.observation.lead == 0.5 and spindle.observation.rates == (6, 7)
    built = ncap_io(3, angles=[1, 2], rates=[6, 7], lead=0.5)
    assert spindle.observation.scale == pytest.approx(built.observation.scale)  # 1 / (2 pi / 3), to 15 digits
    angles_alone = ncap_io(3, angles=[1, 2])
    fast, slow = (
        swim(spec, genome, io, 3, steps=1000, env_id="Swimmer-v5").returns[0] for io in (spindle, angles_alone)
    )
    assert fast > 250 and slow < 100  # Swimmer-v5 return; the best genomes without a lead reach about 130


def test_the_recipe_passes_150_within_its_first_30_episodes(tmp_path):
    from evolution.config import load_config
    from evolution.runner import Experiment

    config = load_config(RECIPE, seed=1, generations=3)  # the whole recipe but 30 of its 500 episodes
    Experiment(config, tmp_path / "run", quiet=True).run()
    with open(tmp_path / "run" / "logbook.csv", newline="") as handle:
        best = max(float(row["best"]) for row in csv.DictReader(handle))
    assert best >= 150  # the bar for the whole budget; without the lead no genome reached 135


def test_evolve_on_gymnasiums_swimmer_v5_then_eval_swimmer_on_it(tmp_path, capsys):
    recipe = yaml.safe_load(RECIPE.read_text())
    recipe["generations"] = 2
    recipe["strategy"]["population"] = 4
    recipe["fitness"]["env"]["episode_steps"] = 20
    config, run_dir, video = tmp_path / "v5.yaml", tmp_path / "run", tmp_path / "v5.mp4"
    config.write_text(yaml.safe_dump(recipe))
    assert cli(["evolve", str(config), "--run-dir", str(run_dir), "--quiet"]) == 0
    assert "8 evaluations" in capsys.readouterr().out
    best = run_dir / "best"
    args = ["eval-swimmer", str(best), "--env", "Swimmer-v5", "--episodes", "2", "--steps", "20", "--video", str(video)]
    assert cli(args) == 0
    out = capsys.readouterr().out
    assert "ncap_spiking_3links_clock80" in out and "3 links (Swimmer-v5)" in out and "forward speed" in out
    with imageio.get_reader(video) as reader:
        assert sum(1 for _ in reader) == 21  # the reset frame and one per control step
    short = ["eval-swimmer", str(best), "--env", "Swimmer-v5", "--episodes", "1", "--steps", "5"]
    assert cli([*short, "--angles", "1", "2"]) != 0  # the saved adapter reads rates 6, 7 too: say which
    err = capsys.readouterr().err.strip()
    assert "give --rates with --angles" in err and "\n" not in err
    assert cli([*short, "--angles", "1", "2", "--lead", "0"]) == 0  # the angles alone
    assert cli([*short, "--angles", "1", "2", "--rates", "6", "7", "--lead", "0.3"]) == 0
    capsys.readouterr()
    assert cli(["eval-swimmer", "swimmer_ncap", "--env", "Swimmer-v5", "--links", "3", "--angles", "1", "2",
                "--rates", "6", "7", "--steps", "5"]) != 0  # re-instantiated: angles alone, so a lead is needed
    assert "--rates needs a lead" in capsys.readouterr().err


def test_eval_swimmer_refuses_angle_indices_that_do_not_fit_the_controller_in_one_line(capsys):
    args = ["eval-swimmer", "swimmer_ncap", "--env", "Swimmer-v5", "--links", "3", "--angles", "1", "--steps", "5"]
    assert cli(args) != 0
    err = capsys.readouterr().err.strip()
    assert "Swimmer-v5" in err and "1 input(s)" in err and "\n" not in err


def test_the_benchmark_quick_mode_ends_with_its_result_line(load_benchmark, tmp_path, capsys):
    assert load_benchmark("ncap_swimmer_v5").main(["--quick", "--runs", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("RESULT ncap_swimmer_v5 spiking_return_500=") and "spiking_best_5000=" in last
    assert (tmp_path / "results" / "ncap_swimmer_v5.json").is_file()


def test_the_lead_benchmark_quick_mode_ends_with_its_result_line(load_benchmark, tmp_path, capsys):
    assert load_benchmark("ncap_swimmer_v5_lead").main(["--quick", "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("RESULT ncap_swimmer_v5_lead angles_alone_best=") and " ratio=" in last
    assert (tmp_path / "ncap_swimmer_v5_lead.json").is_file()


def test_eval_swimmer_asks_for_the_angles_of_another_body_instead_of_reading_the_plants(capsys):
    """Without --angles the re-instantiated NCAP read Swimmer-v5's body angle as its head joint: return -6.5,
    swimming backwards, and no word of it."""
    assert cli(["eval-swimmer", "swimmer_ncap", "--env", "Swimmer-v5", "--links", "3", "--steps", "5"]) != 0
    err = capsys.readouterr().err.strip()
    assert "observation indices [0, 1]" in err and "give --angles for Swimmer-v5" in err and "\n" not in err


def test_eval_swimmer_names_what_a_controller_that_is_no_swimmer_needs(capsys):
    assert cli(["eval-swimmer", "shipped:blimp", "--steps", "5"]) != 0
    err = capsys.readouterr().err.strip()
    assert "is not an NCAP network (1 input(s), 1 output(s))" in err and "N - 1 outputs" in err


def test_eval_swimmer_refuses_a_video_size_before_the_swim(capsys, monkeypatch, tmp_path):
    import snncontrol.evaluation.swimming as swimming

    def swum(*_args, **_kwargs):
        raise AssertionError("swam before checking the video size")

    monkeypatch.setattr(swimming, "swim", swum)
    args = ["eval-swimmer", "swimmer_ncap", "--steps", "5", "--video", str(tmp_path / "v.mp4"), "--width", "2000"]
    assert cli(args) != 0
    assert "offscreen framebuffer" in capsys.readouterr().err


def test_eval_swimmer_swims_an_ncap_with_command_inputs_and_takes_its_commands(tmp_path, capsys):
    """An NCAP built with speed and turn inputs could not be swum: "the observation adapter (select) makes 5
    input(s) ... the network takes 8"."""
    from snncontrol.artifacts import save_controller

    spec = ncap_spec(6, "spiking", speed=True, turn=True)
    path = str(save_controller(tmp_path / "commanded", spec, paper_genome(spec), None, ncap_io(6)))
    speeds = {}
    for speed in ("1", "0"):
        assert cli(["eval-swimmer", path, "--steps", "300", "--episodes", "1", "--speed", speed]) == 0
        out = capsys.readouterr().out
        assert f"commands: speed {speed}, turn right 0 left 0" in out
        speeds[speed] = float(out.split("forward speed ")[1].split()[0])
    assert speeds["1"] > 0.05 and abs(speeds["0"]) < 0.01  # m/s: full speed swims, speed 0 stops it
    assert cli(["eval-swimmer", "--steps", "5", "--turn", "1", "0"]) != 0  # the shipped NCAP has no turn input
    assert "--turn: the controller has no turn command input" in capsys.readouterr().err
