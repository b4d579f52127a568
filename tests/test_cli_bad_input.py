"""Bad input to any entry point is one line on stderr with exit status 2 (or the loader's own error class), never a
traceback, a NaN written to disk or an unbounded allocation: first the named cases, then seeded generated bad
input for each loader (experiment config, CSV recording, ROS 2 bag, image folder)."""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from snncontrol.cli import main
from snncontrol.controllers.blimp.recordings import MAX_STEPS, RecordingError, load_bag, load_csv
from snncontrol.vpr.datasets.folders import MAX_PIXELS, load_folder
from snncontrol.vpr.errors import DatasetError

ROOT = Path(__file__).resolve().parents[1]

def _one_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The error line of `snncontrol ARGV`, which must fail with status 2 and print exactly one line."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"snncontrol {argv[0]}: error: "), err
    return err


def test_info_and_export_nir_take_a_shipped_name(tmp_path, capsys):
    assert main(["info", "shipped:blimp"]) == 0
    assert "shipped:blimp" in capsys.readouterr().out
    assert main(["export-nir", "shipped:blimp", str(tmp_path / "blimp.nir")]) == 0
    assert (tmp_path / "blimp.nir").stat().st_size > 0


@pytest.mark.parametrize(
    "argv",
    [
        ["info", "shipped:nope"],
        ["export-nir", "shipped:nope", "OUT/x.nir"],
        ["compose", "shipped:blimp", "shipped:nope", "--out", "OUT/c"],
        ["blimp-integrator", "--pd", "shipped:nope", "--out", "OUT/i"],
        ["demo", "--artifact", "shipped:nope", "--out", "OUT/d"],
        ["eval-blimp", "shipped:nope", "--out", "OUT/e"],
    ],
    ids=lambda argv: argv[0],
)
def test_every_artifact_argument_resolves_shipped_names(argv, tmp_path, capsys):
    argv = [a.replace("OUT", str(tmp_path)) for a in argv]
    message = "no shipped controller 'nope' (shipped: blimp, blimp_envelope_seed, swimmer_ncap, swimmer_ncap_bodies)"
    assert message in _one_line(capsys, *argv)


def test_export_nir_to_a_directory(tmp_path, capsys):
    assert "exists and is not a regular file: not replaced" in _one_line(capsys, "export-nir", "shipped:blimp",
                                                                         str(tmp_path))


def test_an_output_path_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    assert str(tmp_path / "file") in _one_line(
        capsys, "blimp-integrator", "--pd", "constructed", "--out", str(tmp_path / "file" / "i")
    )


def test_an_output_path_holding_the_users_files_is_refused_and_kept(tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("years of work")
    for argv in (["blimp-integrator", "--pd", "constructed", "--out", str(mine)],  # every artifact: save_controller
                 ["vpr", "train", "--reference", str(tmp_path / "none"), "--out", str(mine)],  # before the training
                 ["make-route", str(mine), "--places", "2", "--traversals", "day", "--bag-storage", "none"]):
        assert "not replaced" in _one_line(capsys, *argv), argv
        assert sorted(p.name for p in mine.iterdir()) == ["thesis.txt"]
        assert (mine / "thesis.txt").read_text() == "years of work"


def test_eval_swimmer_names_an_environment_that_does_not_exist(capsys):
    """A misspelt --env was answered with a request for --angles."""
    assert "--env Nope-v0: Environment `Nope` doesn't exist" in _one_line(capsys, "eval-swimmer", "--env", "Nope-v0")


def test_demo_refuses_two_hover_commands_that_would_share_a_plot(tmp_path, capsys):
    """0.2 and 0.20000001 flew two blimps and wrote the second's plot over the first's."""
    err = _one_line(capsys, "demo", "--hover", "0.2", "0.20000001", "--out", str(tmp_path))
    assert "share the plot blimp_demo_hover_0.2.png" in err and not any(tmp_path.iterdir())


def test_an_input_artifact_is_never_its_own_output(tmp_path, capsys):
    """`blimp-integrator --pd pdi --out pdi` and `compose c shipped:blimp --out c` replaced the artifact they read
    (an evolved genome and its metadata) with their result, exit status 0."""
    mine = tmp_path / "mine"
    assert main(["compose", "shipped:blimp_envelope_seed", "shipped:blimp", "--out", str(mine)]) == 0
    before = (mine / "controller.json").read_bytes()
    capsys.readouterr()
    for argv in (["blimp-integrator", "--pd", str(mine), "--out", str(mine)],
                 ["compose", str(mine), "shipped:blimp", "--out", str(tmp_path / "." / "mine")]):
        assert "is the input artifact" in _one_line(capsys, *argv), argv
    assert (mine / "controller.json").read_bytes() == before


def test_a_bad_output_path_fails_before_the_work(tmp_path, capsys, monkeypatch):
    import snncontrol.commands.demo as demo
    import snncontrol.commands.eval_blimp as eval_blimp

    def never(*_args, **_kwargs):
        raise AssertionError("the flights ran before the output path was checked")

    monkeypatch.setattr(eval_blimp, "evaluate_envelope", never)
    monkeypatch.setattr(demo, "_fly", never)
    monkeypatch.setattr("snncontrol.commands.blimp_dataset.MAKERS", {"pd": never})
    (tmp_path / "afile").write_text("x")
    assert "File exists" in _one_line(capsys, "eval-blimp", "shipped:blimp", "--out", str(tmp_path / "afile"))
    afile = str(tmp_path / "afile")
    assert f"{afile} is a file, not a directory" in _one_line(capsys, "demo", "--out", afile)
    assert "cannot write /proc/blimp_demo_hover_0.2.png" in _one_line(capsys, "demo", "--out", "/proc")  # it flew first
    assert "not a regular file" in _one_line(capsys, "blimp-dataset", str(tmp_path), "--kind", "pd")
    nir = tmp_path / "export.nir"  # a file the dataset would have replaced with npz data
    nir.write_bytes(b"nir")
    assert "give a name ending in .npz" in _one_line(capsys, "blimp-dataset", str(nir), "--kind", "pd")
    assert nir.read_bytes() == b"nir"


@pytest.mark.parametrize(
    "argv",
    [
        ["compose", "shipped:swimmer_ncap", "shipped:swimmer_ncap", "--out", "FILE/out"],
        ["export-nir", "shipped:swimmer_ncap", "FILE/deeper/out.nir"],
        ["demo", "--out", "FILE/out"],
        ["blimp-dataset", "FILE/out.npz"],
        ["eval-swimmer", "shipped:swimmer_ncap", "--video", "FILE/swim.mp4"],
        ["blimp-integrator", "--pd", "constructed", "--out", "FILE/out"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_output_under_a_file_says_that_the_file_is_no_directory(argv, tmp_path, capsys, monkeypatch):
    """It said '<the file>: File exists'."""
    import snncontrol.commands.demo as demo

    def never(*_args, **_kwargs):
        raise AssertionError("the work ran before the output path was checked")

    monkeypatch.setattr(demo, "_fly", never)
    monkeypatch.setattr("snncontrol.commands.blimp_dataset.MAKERS", {"pd": never})
    (tmp_path / "file").write_text("x")
    line = _one_line(capsys, *[a.replace("FILE", str(tmp_path / "file")) for a in argv])
    assert f"{tmp_path / 'file'} is a file, not a directory" in line and "File exists" not in line


def test_an_output_in_a_folder_that_takes_no_files_is_named_not_its_temporary(capsys):
    line = _one_line(capsys, "compose", "shipped:swimmer_ncap", "shipped:swimmer_ncap", "--out", "/proc/x")
    assert "cannot write /proc/x:" in line and "/proc/.x." not in line


@pytest.mark.parametrize(("option", "value", "valid"), [("--leak", "2", "0 .. 1"), ("--offset", "1e9", "-1.42857 .. "
                                                         "1.42857"), ("--readout-weight", "-3", "-1 .. 1")])
def test_a_blimp_integrator_option_out_of_range_is_named_with_its_range(option, value, valid, tmp_path, capsys):
    """It named the genome entry it set (hidden.decay_syn, readout.w_in), not the option."""
    line = _one_line(capsys, "blimp-integrator", "--pd", "constructed", "--out", str(tmp_path / "i"), option, value)
    assert f"{option} {float(value):g} is out of range: give {valid}" in line
    assert not (tmp_path / "i").exists()


def test_a_blimp_integrator_number_that_is_not_finite_is_refused_at_parsing(tmp_path, capsys):
    """inf reached the construction (a RuntimeWarning printed before the one line); a push of 1e308 was named in
    a 300-digit number."""
    with pytest.raises(SystemExit) as stopped:
        main(["blimp-integrator", "--pd", "constructed", "--out", str(tmp_path / "i"), "--readout-weight", "inf"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "argument --readout-weight: must be finite, got 'inf'" in err
    assert "RuntimeWarning" not in err
    line = _one_line(capsys, "blimp-integrator", "--pd", "constructed", "--far", "4", "--push", "1e308", "--out",
                     str(tmp_path / "i"))
    assert "needs far readout weights of 2.4e+307," in line and len(line) < 300


def test_demo_takes_the_envelopes_hover_commands_its_help_names(capsys):
    """The help said -0.5 .. 2.2; -3.3 .. 3.3 was taken."""
    for hover in ("3", "-1", "nan"):  # (a bad artifact too: the hover command is checked first)
        assert "--hover must lie in the blimp envelope's -0.5 .. 2.2" in _one_line(
            capsys, "demo", "--hover", hover, "--artifact", "shipped:nope", "--out", "/proc")
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "-0.5 .. 2.2" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["eval-blimp", "shipped:blimp"], ["demo"], ["blimp-dataset", "x.npz"],
                                  ["eval-swimmer"], ["make-route", "r"], ["evolve", "c.yaml"],
                                  ["vpr", "train", "--reference", "r", "--out", "o"]], ids=lambda argv: argv[0])
def test_a_negative_seed_is_refused_at_once_naming_the_option(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--seed", "-5"])
    assert stopped.value.code == 2
    assert "argument --seed: a seed is an integer >= 0, got '-5'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["vpr", "train", "--reference", "r", "--out", "o", "--seed", str(2**32)],  # past 1.09e9 it failed at train
         "argument --seed: a seed is an integer <= 4294967295 (32 bits), got '4294967296'"),
        (["vpr", "--threads", "0", "query", "e", "i.png"], "argument --threads: a thread count is an integer >= 1, "
         "got '0'"),  # torch's RuntimeError traceback
        (["vpr", "--threads", "two", "query", "e", "i.png"], "a thread count is an integer >= 1, got 'two'"),
    ],
)  # fmt: skip
def test_vpr_seed_and_threads_out_of_range_are_refused_at_parsing(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_eval_blimp_refuses_a_hold_of_nan_seconds(tmp_path, capsys):
    err = _one_line(capsys, "eval-blimp", "shipped:blimp", "--hold-s", "nan", "--out", str(tmp_path))
    assert "--hold-s must be positive and finite" in err
    # a hold too short for a steady state: every figure was NaN, then the plot's log scale raised after the flights
    err = _one_line(capsys, "eval-blimp", "shipped:blimp", "--hold-s", "0.1", "--out", str(tmp_path))
    assert "--hold-s must be at least 2 s" in err
    err = _one_line(capsys, "eval-blimp", "shipped:blimp", "--hold-s", "1e5", "--out", str(tmp_path))  # days of flight
    assert "--hold-s must be at most 3600 s" in err


def test_eval_swimmer_takes_the_plants_link_range(capsys):
    """The CLI's range is the plant's (sim_envs.swimmer.mjcf), not a copy of it."""
    from sim_envs.swimmer.mjcf import MAX_LINKS

    err = _one_line(capsys, "eval-swimmer", "--links", str(MAX_LINKS + 1), "--steps", "5")
    assert f"--links must be in 2..{MAX_LINKS} for the swimmer plant, got {MAX_LINKS + 1}" in err
    assert main(["eval-swimmer", "--links", "2", "--episodes", "1", "--steps", "5"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--links", "5000"], "--links must be in 2..30 for the swimmer plant, got 5000"),  # 15 s and 5 GB first
        (["--lead", "-1"], "--lead must be a number of seconds in [0, 10], got -1.0"),  # said "needs rates"
        (["--lead", "1e300", "--rates", "5", "6", "7", "8", "9"], "--lead must be a number of seconds in [0, 10]"),
        (["--lead", "0", "--rates", "5", "6", "7", "8", "9"], "--lead 0 reads the angles alone: leave --rates out"),
        (["--env", "CartPole-v1", "--links", "2", "--angles", "0"],
         "CartPole-v1: a body with flat continuous (Box) observations and actions is needed, its actions are Discrete"),
        (["--env", "Pendulum-v1", "--links", "2", "--angles", "0", "--video", "{tmp}/p.mp4"],
         "--video: Pendulum-v1 cannot render frames of a given size"),
    ],
)
def test_eval_swimmer_bodies_and_options_it_cannot_use_are_one_line(args, message, tmp_path, capsys):
    """Each was a stack dump (a discrete body, a body that takes no frame size) or a late or misleading line."""
    err = _one_line(capsys, "eval-swimmer", "--steps", "5", *[a.format(tmp=tmp_path) for a in args])
    assert message in err


def test_eval_swimmer_refuses_a_controller_reading_angles_where_the_plant_has_none(tmp_path, capsys):
    """A Swimmer-v5 NCAP (angles at 1, 2) swum in the plant without --env read a joint velocity as an angle; a
    network that is no NCAP reads what it was made to read."""
    from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
    from snncontrol.artifacts import save_controller
    from snncontrol.controllers.ncap import ncap_io, ncap_spec, paper_genome
    from snncontrol.layers import leaky_readout
    from snncontrol.spec import NetworkSpec

    spec = ncap_spec(3, "spiking", oscillator="clock", period=72, dt=0.04)
    path = save_controller(tmp_path / "v5", spec, paper_genome(spec), None, ncap_io(3, angles=[1, 2]))
    err = _one_line(capsys, "eval-swimmer", str(path), "--steps", "5")
    assert "reads the joint angles at observation indices [1, 2], not where the project's plant has them (0 1)" in err
    assert main(["eval-swimmer", str(path), "--steps", "5", "--angles", "0", "1"]) == 0

    other = NetworkSpec(10, (leaky_readout("readout", 5),), dt=0.03)  # no NCAP: angles and rates, its own choice
    io = IOAdapters(ObservationAdapter("select", indices=tuple(range(10))), ActionAdapter("affine_clip", low=-1.0,
                                                                                          high=1.0))
    path = save_controller(tmp_path / "other", other, other.parameters.initial(), None, io)
    assert main(["eval-swimmer", str(path), "--steps", "5", "--links", "6"]) == 0


def test_running_out_of_memory_is_one_line(capsys, monkeypatch):
    """torch's allocator raises RuntimeError (not MemoryError): a page of traceback."""
    import snncontrol.evaluation.swimming as swimming

    def allocate(*_args, **_kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] . DefaultCPUAllocator: can't allocate memory: you "
                           "tried to allocate 80000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(swimming, "swim", allocate)  # (eval-swimmer imports it when it runs)
    err = _one_line(capsys, "eval-swimmer", "--episodes", "10", "--steps", "5")
    assert "out of memory (can't allocate memory" in err


@pytest.mark.parametrize(("argv", "reason"), [
    (["eval-swimmer", "--episodes", "99999999999", "--steps", "20"], "argument --episodes: must be >= 1 and <= 10000"),
    (["eval-swimmer", "--steps", "0"], "argument --steps: must be >= 1 and <= 1000000"),
    (["eval-blimp", "shipped:blimp", "--plants", "99999999999"], "argument --plants: must be >= 1 and <= 1000"),
    (["blimp-integrator", "--pd", "constructed", "--hidden", "100000", "--out", "x"],  # ran for minutes
     "argument --hidden: must be >= 2 and <= 1000, got '100000'"),
    (["blimp-integrator", "--pd", "constructed", "--pairs", "0", "--out", "x"],  # was taken as 10, and written
     "argument --pairs: must be >= 2 and <= 200, got '0'"),
])
def test_a_batch_too_large_to_hold_is_refused_before_anything_is_allocated(capsys, argv, reason):
    """--episodes 99999999999 built its list of seeds until the kernel killed it at 23 GB; --plants likewise ended
    in a MemoryError that did not name the option."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2 and reason in capsys.readouterr().err


def _flight_csv(
    path: Path,
    last_time: str = "2.0",
    altitude: str = "1.0",
    header: str = "time,altitude,setpoint",
    encoding: str = "utf-8",
) -> Path:
    rows = [f"{0.1 * k:.1f},1.0,1.0" for k in range(20)] + [f"{last_time},{altitude},1.0"]
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


@pytest.mark.parametrize(
    ("csv", "args", "message"),
    [
        ({"altitude": "1e308"}, [], "altitude values beyond +-1e+06"),
        ({"last_time": "inf"}, [], "samples at non-finite times"),
        ({"last_time": "1e12"}, [], f"is over {MAX_STEPS} steps"),
        ({}, ["--dt", "1e-9"], f"is over {MAX_STEPS} steps"),
        ({}, ["--dt", "nan"], "dt must be a finite number > 0"),
        ({}, ["--test-s", "inf"], "--test-s must be positive and finite"),
        ({}, ["--train-s", "1e12"], "at most 1e+06 s of training flights"),
        ({}, ["--train-s", "0.1"], "must each span 2 control steps of 0.1 s or more"),  # was a reshape ValueError
        ({}, ["--kind", "i"], "--kind shape simulated flights, not recordings"),  # set the recordings' 250 s
        ({}, ["--train", "0", "--seed", "3"], "--seed, --train shape simulated flights"),  # --train 0 was refused
        ({}, ["--setpoint-topic", "/sp"], "--setpoint-topic name bag topics: they are read only with --bag"),
    ],
)
def test_blimp_dataset_refuses_absurd_recordings_in_one_line(csv, args, message, tmp_path, capsys):
    path = _flight_csv(tmp_path / "flight.csv", **csv)
    err = _one_line(capsys, "blimp-dataset", str(tmp_path / "out.npz"), "--csv", str(path), *args)
    assert message in err
    assert not (tmp_path / "out.npz").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dt", "0.05"], "--dt shape recordings (--csv / --bag): leave them out for simulated flights"),
        (["--kind", "i", "--target", "i", "--dt", "1"], "--target, --dt shape recordings"),
        (["--altitude-topic", "/z", "--command-topic", ""], "--altitude-topic, --command-topic name bag topics"),
    ],
)
def test_blimp_dataset_refuses_recording_options_for_simulated_flights(args, message, tmp_path, capsys):
    """Each was ignored: --dt 0.05 gave a dataset at the simulation's 0.1 s, --target i one with the PD target."""
    err = _one_line(capsys, "blimp-dataset", str(tmp_path / "out.npz"), *args)
    assert message in err
    assert not (tmp_path / "out.npz").exists()


def test_a_csv_header_after_a_utf8_byte_order_mark_is_read(tmp_path):
    plain = load_csv(_flight_csv(tmp_path / "plain.csv"))
    bom = load_csv(_flight_csv(tmp_path / "bom.csv", encoding="utf-8-sig"))
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    np.testing.assert_array_equal(bom.altitude, plain.altitude)


# Generated bad input: each generator is seeded, so a failure names a reproducible case.

GOOD_CONFIG = {
    "seed": 1,
    "generations": 1,
    "network": {"builder": "paired_lif_readout", "kwargs": {"n_pairs": 2, "n_hidden": 3}},
    "strategy": {"name": "cmaes", "population": 4},
    "fitness": {"kind": "sphere", "centers": [0.3]},
}
BAD_FIELDS = {  # dotted path -> values that are each invalid there
    "seed": [-1, 2**70, 1.5, "x", None, [1]],
    "generations": [0, -3, "many", 1e400, None],
    "strategy.population": [1, 10**7, 1e7, -4, "x"],
    "strategy.sigma": [0, -1, 2.0, "nan", None],
    "strategy.name": ["annealing", 3, None],
    "network.builder": ["os:system", "subprocess:run", "builtins:eval", "nowhere", "", 7],
    "network.kwargs.n_pairs": [-3, 0, 2**70, 10**12, "two", None, 1e308],
    "network.kwargs.n_hidden": [-1, 0, 2**64, "three", [3]],
    "network.kwargs.bogus": [1],
    "fitness.centers": [[], [2.0], [-1], "x", [float("nan")]],
    "fitness.kind": ["magic", None],
    "backend.name": ["gpu", 1],
    "backend.workers": [0, -2],
    "output.checkpoint_every": [0, "often"],
    "extra_key": [1],
}


def _mutated(rng: np.random.Generator) -> dict:
    config = yaml.safe_load(yaml.safe_dump(GOOD_CONFIG))
    paths = list(BAD_FIELDS)
    for index in rng.choice(len(paths), size=int(rng.integers(1, 4)), replace=False):
        *parents, key = paths[index].split(".")
        node = config
        for part in parents:
            node = node.setdefault(part, {})
        values = BAD_FIELDS[paths[index]]
        node[key] = values[int(rng.integers(len(values)))]
    return config


@pytest.mark.parametrize("case", range(40))
def test_generated_bad_configs_give_one_line(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(_mutated(np.random.default_rng(case))))
    _one_line(capsys, "evolve", str(path), "--quiet", "--run-dir", str(tmp_path / "run"))


CELLS = ["", " ", "nan", "inf", "-inf", "1e308", "-1e308", "1e12", "abc", "9" * 400, "0x10", "--1", "0"]


def _garbage_csv(rng: np.random.Generator, path: Path) -> Path:
    """A CSV recording with one or two defects: an odd cell anywhere (times included), a missing, shuffled or
    duplicated column, a byte order mark, a short row, rows out of order, too few rows."""
    header = ["time", "altitude", "setpoint", "command"]
    rows = [[f"{0.05 * k:g}", f"{rng.normal(1.0, 0.2):.3f}", "1.0", "0.4"] for k in range(int(rng.integers(2, 40)))]
    bom = b""
    for defect in rng.choice(7, size=int(rng.integers(1, 3))):
        k, column = int(rng.integers(len(rows))), int(rng.integers(len(header)))
        if defect <= 1:
            rows[k][column] = str(rng.choice(CELLS))
        elif defect == 2:
            del header[column]
            rows = [row[:column] + row[column + 1 :] for row in rows]
        elif defect == 3:
            order = rng.permutation(len(header))
            header, rows = [header[i] for i in order], [[row[i] for i in order] for row in rows]
        elif defect == 4:
            bom = b"\xef\xbb\xbf"
        elif defect == 5:
            rows[k] = rows[k][: int(rng.integers(len(rows[k])))]
        else:
            rows = rows[::-1] if rng.random() < 0.5 else rows[:1]
    path.write_bytes(bom + "\n".join(",".join(row) for row in [header, *rows]).encode())
    return path


def _usable(recording) -> bool:
    """What a loader that returns must give: finite, bounded signals."""
    signals = [recording.altitude, recording.setpoint] + ([] if recording.command is None else [recording.command])
    return all(len(s) <= MAX_STEPS + 1 and np.isfinite(s).all() for s in signals)


@pytest.mark.parametrize("case", range(50))
def test_generated_bad_csv_recordings_load_or_give_a_recording_error(case, tmp_path):
    rng = np.random.default_rng(1000 + case)
    path = _garbage_csv(rng, tmp_path / "flight.csv")
    dt = float(rng.choice([0.1, 0.1, 0.1, 1e-9, 1e300, math.inf, math.nan, -0.1]))
    try:
        assert _usable(load_csv(path, dt))
    except RecordingError as exc:
        assert "\n" not in str(exc)


TYPESTORE = get_typestore(Stores.LATEST)
VALUES = [1.0, 0.0, -1.0, math.nan, math.inf, -math.inf, 1e308, -1e308]


def _message(kind: str, value: float):
    if kind == "sensor_msgs/msg/Range":
        header = TYPESTORE.types["std_msgs/msg/Header"](TYPESTORE.types["builtin_interfaces/msg/Time"](0, 0), "")
        return TYPESTORE.types[kind](
            header=header,
            radiation_type=1,
            field_of_view=0.04,
            min_range=0.1,
            max_range=12.0,
            range=np.float32(np.clip(value, -3e38, 3e38)),
            variance=0.0,
        )
    if kind == "std_msgs/msg/Float64MultiArray":
        layout = TYPESTORE.types["std_msgs/msg/MultiArrayLayout"]([], 0)
        return TYPESTORE.types[kind](layout, np.array([value] if value != 0.0 else [], dtype=np.float64))
    if kind == "std_msgs/msg/String":
        return TYPESTORE.types[kind](str(value))
    return TYPESTORE.types[kind](value)


def _garbage_bag(rng: np.random.Generator, path: Path) -> Path:
    """A recording bag with one or two defects: a missing topic, a wrong message type, a non-finite or absurd
    value, a stamp that jumps by years, a topic without messages, a truncated file."""
    defects = set(rng.choice(6, size=int(rng.integers(1, 3))).tolist())
    topics = {topic: "std_msgs/msg/Float64" for topic in ("/setpoint", "/thrust_command")}
    topics["/altitude"] = "sensor_msgs/msg/Range"
    broken = str(rng.choice(sorted(topics)))
    if 0 in defects:
        del topics[broken]
    elif 1 in defects:
        topics[broken] = str(rng.choice(["std_msgs/msg/String", "std_msgs/msg/Float64MultiArray"]))
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        for topic, kind in topics.items():
            conn = writer.add_connection(topic, kind, typestore=TYPESTORE)
            count = 0 if 4 in defects and topic == broken else 30
            for k in range(count):
                value = float(rng.normal(1.0, 0.1))
                if 2 in defects and topic == broken and k == 20:
                    value = float(rng.choice(VALUES))
                stamp = 10**9 + k * 10**8 + (10**17 if 3 in defects and k == 29 else 0)
                writer.write(conn, stamp, TYPESTORE.serialize_cdr(_message(kind, value), kind))
    if 5 in defects:
        data = next(path.glob("*.mcap"))
        data.write_bytes(data.read_bytes()[: int(rng.integers(0, data.stat().st_size))])
    return path


@pytest.mark.parametrize("case", range(30))
def test_generated_bad_bags_load_or_give_a_recording_error(case, tmp_path):
    rng = np.random.default_rng(2000 + case)
    path = _garbage_bag(rng, tmp_path / "bag")
    try:
        assert _usable(load_bag(path, dt=0.1))
    except RecordingError as exc:
        assert "\n" not in str(exc)


def _png_header(width: int, height: int) -> bytes:
    """The first bytes of a grayscale PNG of width x height: enough for a reader to learn its size, no pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def _garbage_image(rng: np.random.Generator, path: Path) -> None:
    choice = int(rng.integers(7))
    if choice == 0:  # a real, small image in a random mode
        mode = str(rng.choice(["L", "RGB", "RGBA", "P", "I;16", "1", "LA"]))
        Image.new(mode, (int(rng.integers(1, 9)), int(rng.integers(1, 9)))).save(path.with_suffix(".png"))
    elif choice == 1:  # a header claiming a huge image (20000 x 20000 and beyond)
        side = int(rng.choice([20_000, 1 << 20, math.isqrt(MAX_PIXELS) + 1]))
        path.with_suffix(".png").write_bytes(_png_header(side, side))
    elif choice == 2:  # random bytes under an image suffix
        suffix = str(rng.choice([".png", ".jpg", ".bmp", ".ppm"]))
        path.with_suffix(suffix).write_bytes(rng.bytes(int(rng.integers(64))))
    elif choice == 3:  # an empty file
        path.with_suffix(".jpeg").write_bytes(b"")
    elif choice == 4:  # a truncated real image
        Image.new("RGB", (16, 16), (1, 2, 3)).save(path.with_suffix(".png"))
        data = path.with_suffix(".png").read_bytes()
        path.with_suffix(".png").write_bytes(data[: int(rng.integers(8, len(data)))])
    elif choice == 5:  # a directory that looks like an image
        path.with_suffix(".png").mkdir()
    else:  # a PPM whose header lies about its size
        path.with_suffix(".ppm").write_bytes(b"P5\n99999 99999\n255\n" + rng.bytes(16))


@pytest.mark.parametrize("case", range(40))
def test_generated_bad_image_folders_load_or_give_a_dataset_error(case, tmp_path):
    rng = np.random.default_rng(3000 + case)
    folder = tmp_path / "traversal"
    folder.mkdir()
    for k in range(int(rng.integers(1, 4))):
        _garbage_image(rng, folder / f"{k:06d}")
    try:
        traversal = load_folder(folder)
    except DatasetError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(image.dtype == np.uint8 and image.size <= 3 * MAX_PIXELS for image in traversal.images)


def test_an_error_left_by_a_ctrl_c_is_reported_as_the_interrupt(capsys, monkeypatch):
    """Ctrl-C inside a zip write made closing the file raise ValueError: `interrupted` and 130, not that error."""
    import snncontrol.commands.info as info

    def cut_short(_args):
        try:
            raise KeyboardInterrupt
        finally:
            raise ValueError("Can't close the ZIP file while there is an open writing handle on it.")

    monkeypatch.setattr(info, "run", cut_short)
    assert main(["info", "shipped:blimp"]) == 130
    assert capsys.readouterr().err == "snncontrol info: interrupted\n"


def test_a_route_too_long_for_one_scene_is_one_line(tmp_path, capsys):
    """--spacing 1e5 built a 200 km world for minutes; 1e308 failed in MuJoCo's words, naming no option."""
    for spacing in ("1e5", "1e308"):
        err = _one_line(capsys, "make-route", str(tmp_path / "r"), "--places", "2", "--spacing", spacing)
        assert "places x spacing is a route of" in err and "at most 50000 m" in err
    assert not (tmp_path / "r").exists()
    _one_line(capsys, "make-route", str(tmp_path / "new" / "dir" / "r"), "--places", "2", "--spacing", "1e5")
    assert list(tmp_path.iterdir()) == []  # the folders made for it are gone again


def test_a_route_that_cannot_be_written_is_one_line_naming_it(tmp_path, capsys):
    """A path under a file said only 'afile: File exists'; /proc named the hidden folder it renders into."""
    (tmp_path / "afile").write_text("")
    err = _one_line(capsys, "make-route", str(tmp_path / "afile" / "route"), "--places", "2")
    assert f"cannot write {tmp_path}/afile/route: {tmp_path}/afile is a file, not a directory" in err
    err = _one_line(capsys, "make-route", "/proc/route", "--places", "2")
    assert "cannot write /proc/route: /proc takes no new file" in err and "/proc/." not in err


def test_a_video_that_cannot_be_written_is_refused_before_the_swim(tmp_path, capsys):
    err = _one_line(capsys, "eval-swimmer", "--steps", "5", "--video", str(tmp_path / "noext"))
    assert "give a file name ending in one of" in err
    err = _one_line(capsys, "eval-swimmer", "--steps", "5", "--video", "/proc/swim.mp4")
    assert "cannot write /proc/swim.mp4" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["blimp-integrator", "--pd", "constructed", "--push", "5", "--out", "{tmp}/a"], "need --far N"),
     (["blimp-integrator", "--pd", "shipped:blimp", "--kp", "5", "--out", "{tmp}/a"], "need --pd constructed"),
     (["blimp-integrator", "--pd", "shipped:blimp", "--thermometer", "2", "--pairs", "20", "--out", "{tmp}/a"],
      "--thermometer, --pairs shape the constructed PD: they need --pd constructed"),
     (["vpr", "train", "--reference", "{tmp}", "--calibration-ground-truth", "{tmp}/t.csv", "--out", "{tmp}/e"],
      "give --calibration too"),
     (["evolve", "--resume", "{tmp}/run", "--run-dir", "{tmp}/other"], "would be ignored"),
     (["vpr", "eval", "{tmp}/e", "--reference", "{tmp}", "--query", "{tmp}/run", "--every-s", "nan"],
      "--every-s sample ROS 2 bags, and every traversal here is an image folder"),
     (["evolve", "configs/evolve_sphere_smoke.yaml", "--address", "127.0.0.1:1", "--run-dir", "{tmp}/r"],
      "--address names a Ray cluster: the backend is serial")],
)
def test_an_option_that_would_be_ignored_is_refused_in_one_line(argv, message, tmp_path, capsys):
    """Each of these was taken and did nothing (the run went on as if it had not been given)."""
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text((ROOT / "configs" / "evolve_sphere_smoke.yaml").read_text())
    err = _one_line(capsys, *[a.format(tmp=tmp_path).replace("configs/", f"{ROOT}/configs/") for a in argv])
    assert message in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "r").exists()


def test_a_reader_that_goes_away_is_no_error(tmp_path):
    """`snncontrol info ... | head -0`: 'error: [Errno 32] Broken pipe' and status 2."""
    proc = subprocess.Popen([sys.executable, "-m", "snncontrol.cli", "info", "shipped:blimp"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before it writes anything
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and b"error" not in err, err


def test_first_line_is_the_first_non_blank_line_or_the_type_name() -> None:
    from snncontrol.errors import first_line

    assert first_line(ValueError("\n  \nbad value\n  line 2 ^")) == "bad value"
    assert first_line(RuntimeError()) == "RuntimeError"


def test_described_names_the_type_once() -> None:
    from snncontrol.errors import described

    assert described(ValueError("bad\nmore")) == "ValueError: bad"
    assert described(ValueError()) == "ValueError"  # it printed 'ValueError: ValueError'
    assert len(described(ValueError("x" * 500))) == len("ValueError: ") + 200


def test_ctrl_c_while_a_command_loads_is_the_interrupt_not_a_traceback(capsys, monkeypatch):
    """Importing a command's module takes seconds (torch): Ctrl-C then printed a KeyboardInterrupt traceback."""
    import importlib

    def interrupted(_name):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib, "import_module", interrupted)
    assert main(["vpr", "train"]) == 130
    assert capsys.readouterr().err == "snncontrol vpr: interrupted\n"


def test_info_says_what_it_was_given_instead_of_a_controller(tmp_path, capsys):
    nir = tmp_path / "ctrl.nir"
    nir.write_bytes(b"\x89HDF")
    assert main(["info", str(nir)]) == 2
    assert "a file, not a directory" in capsys.readouterr().err  # it said 'not found'
    ensemble = tmp_path / "ens"
    ensemble.mkdir()
    (ensemble / "ensemble.json").write_text("{}")
    assert main(["info", str(ensemble)]) == 2
    assert "a place-recognition ensemble (ensemble.json), not a controller" in capsys.readouterr().err


def test_make_route_renders_on_a_machine_without_a_display_and_without_mujoco_gl(tmp_path):
    """MUJOCO_GL was set after MuJoCo had been imported (it reads it then): a 25-line FatalError instead of a route;
    a MUJOCO_GL that cannot render here is one line."""
    import os

    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL")}
    argv = [sys.executable, "-m", "snncontrol.cli", "make-route", str(tmp_path / "route"), "--places", "2",
            "--traversals", "day", "--width", "32", "--height", "24", "--bag-storage", "none"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (tmp_path / "route" / "day").is_dir(), done.stderr
    done = subprocess.run([*argv[:4], str(tmp_path / "other"), *argv[5:]], env={**env, "MUJOCO_GL": "glfw"},
                          capture_output=True, text=True, timeout=300)
    error = [line for line in done.stderr.splitlines() if "error:" in line]
    assert done.returncode == 2 and len(error) == 1 and "MuJoCo cannot render here" in error[0], done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "other").exists()


def test_eval_swimmer_videos_render_without_a_display_and_without_mujoco_gl(tmp_path):
    import os

    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "MUJOCO_GL")}
    argv = [sys.executable, "-m", "snncontrol.cli", "eval-swimmer", "--steps", "3", "--episodes", "1", "--video",
            str(tmp_path / "swim.mp4")]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and (tmp_path / "swim.mp4").stat().st_size > 0, done.stderr
    done = subprocess.run(argv, env={**env, "MUJOCO_GL": "glfw"}, capture_output=True, text=True, timeout=300)
    error = [line for line in done.stderr.splitlines() if "error:" in line]
    assert done.returncode == 2 and len(error) == 1 and "--video: MuJoCo cannot render here" in error[0], done.stderr
