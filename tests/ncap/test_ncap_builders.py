"""NCAP builders as data: importing them loads no plant, and a spec's build options live in its metadata (not in
its name), survive its JSON form and artifacts, and are what `retarget` and eval-swimmer read."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from snncontrol.artifacts import Metadata, read_artifact, save_controller
from snncontrol.commands.eval_swimmer import body
from snncontrol.controllers.ncap import mlp_spec, ncap_genome, ncap_io, ncap_options, ncap_spec, ncap_weights, retarget
from snncontrol.errors import SnnControlError, SpecError
from snncontrol.spec import NetworkSpec

WEIGHTS = {
    "proprioceptive": 1.2,
    "oscillator": 0.9,
    "speed": -0.5,
    "turn": 0.7,
    "ipsilateral": 1.1,
    "contralateral": -0.3,
}


def test_importing_the_ncap_builders_loads_no_plant():
    code = (
        "import sys, snncontrol.controllers.ncap\n"
        "print(sorted(m for m in ('mujoco', 'gymnasium', 'sim_envs') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_ncap_spec_records_its_build_options_as_metadata():
    spec = ncap_spec(5, "graded", period=40, speed=True, turn=True, turn_joints=2)
    options = {"n_links": 5, "variant": "graded", "period": 40, "speed": True, "turn": True, "turn_joints": 2}
    assert spec.metadata == {"builder": "ncap", **options}
    assert ncap_options(spec) == options


def test_metadata_round_trips_through_the_spec_dict_and_an_artifact(tmp_path):
    spec = ncap_spec(4, "spiking", speed=True)
    again = NetworkSpec.from_dict(spec.to_dict())
    assert again.metadata == spec.metadata and again.to_dict() == spec.to_dict()
    path = save_controller(tmp_path / "c", spec, spec.parameters.initial(), Metadata(seed=0), ncap_io(4))
    assert read_artifact(path)[0].metadata == spec.metadata


def test_a_spec_without_metadata_leaves_it_out_of_its_dict():
    assert "metadata" not in mlp_spec(3, hidden=(4,)).to_dict()


@pytest.mark.parametrize("metadata", [{"hidden": [64, 64]}, {"gain": float("nan")}, {1: "x"}, "ncap"])
def test_metadata_that_is_not_a_json_object_of_plain_values_is_refused_in_one_line(metadata):
    data = {**ncap_spec(3).to_dict(), "metadata": metadata}
    with pytest.raises(SpecError, match="metadata") as info:
        NetworkSpec.from_dict(data)
    assert "\n" not in str(info.value)


def test_retarget_reads_the_metadata_not_the_name():
    spec = dataclasses.replace(ncap_spec(6, "graded", speed=True, turn=True), name="my swimmer")
    spec9, genome9, io9 = retarget(spec, ncap_genome(spec, WEIGHTS), 9)
    assert ncap_options(spec9) == {**ncap_options(spec), "n_links": 9}
    assert spec9.n_inputs == 8 + 3 and ncap_weights(spec9, genome9) == pytest.approx(WEIGHTS)
    assert io9.observation.indices == tuple(range(8))


@pytest.mark.parametrize(
    "spec",
    [
        mlp_spec(3, hidden=(4,)),
        NetworkSpec.from_dict({k: v for k, v in ncap_spec(3).to_dict().items() if k != "metadata"}),
    ],
    ids=["mlp", "ncap_name_only"],
)
def test_a_spec_without_ncap_metadata_is_refused_in_one_line(spec):
    with pytest.raises(SpecError, match="is not an NCAP network") as info:
        retarget(spec, spec.parameters.initial(), 4)
    assert "\n" not in str(info.value)


def test_eval_swimmer_retargets_an_ncap_and_asks_for_the_body_of_anything_else():
    spec = ncap_spec(6)
    genome = spec.parameters.initial()
    assert body(spec, genome, ncap_io(6), None)[3] == 6
    spec4, genome4, io4, n = body(spec, genome, ncap_io(6), 4)
    assert n == 4 and ncap_options(spec4)["n_links"] == 4 and np.array_equal(genome4, genome)
    assert io4.observation.indices == (0, 1, 2)
    mlp = mlp_spec(3, hidden=(4,))
    with pytest.raises(SnnControlError, match="give --links"):
        body(mlp, mlp.parameters.initial(), ncap_io(3), None)


@pytest.mark.parametrize("kwargs", [{"speed": None}, {"speed": "no"}, {"turn": 2}, {"turn": True, "turn_joints": True}])
def test_ncap_spec_refuses_command_options_that_are_not_booleans(kwargs):
    """turn=2 built 4 turn inputs, 2 wired to nothing, and a genome with an unused entry."""
    with pytest.raises(SpecError, match=r"must be true or false|turn_joints must be a positive integer"):
        ncap_spec(3, **kwargs)


@pytest.mark.parametrize("n_links", [1, 3.0, True])
def test_ncap_io_refuses_a_link_count_the_circuit_cannot_have(n_links):
    with pytest.raises(SpecError, match="integer number of links >= 2"):
        ncap_io(n_links)


def test_a_turn_command_of_the_wrong_shape_is_one_line():
    from snncontrol.controllers.ncap import with_commands

    with pytest.raises(SpecError, match=r"turn command is \(right, left\)"):
        with_commands(np.zeros((2, 3)), turn=(0.5,))


def test_ncap_genome_refuses_what_the_circuit_cannot_hold_instead_of_dropping_it():
    ring, clock = ncap_spec(3, "spiking"), ncap_spec(3, "spiking", oscillator="clock", period=60)
    assert np.array_equal(ncap_genome(ring, {}, period=60), ncap_genome(ring, {}))  # its own period: fine
    cases = [
        (ring, {}, 40, "fixed period 60"),  # was dropped: the genome kept 60
        (ring, {"speed": -1.0}, None, r"\['speed'\] not in this circuit"),  # was dropped
        (ring, {"oscillator": 5.0}, None, "outside their bounds"),
        (clock, {}, 3, "clock period 3.0 outside"),
    ]
    for spec, weights, period, message in cases:
        with pytest.raises(SpecError, match=message):
            ncap_genome(spec, weights, period)
