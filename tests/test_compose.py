"""Parallel composition: networks side by side compute exactly what they compute apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from snncontrol.artifacts import load_controller, save_controller
from snncontrol.compose import parallel, parallel_genome, part_patterns, split_genome
from snncontrol.connections import Connection
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp import i_snn, pd_snn
from snncontrol.energy import energy_report
from snncontrol.errors import SpecError
from snncontrol.layers import Layer, leaky_readout
from snncontrol.network import Network
from snncontrol.neurons import LIF
from snncontrol.spec import NetworkSpec


def _run(spec: NetworkSpec, genome: np.ndarray, xs: torch.Tensor, backend: str = "auto"):
    net = Network(spec, torch.float64)
    return (*net.rollout(net.params(genome), xs, net.init_state(xs.shape[1]), backend), net)


@pytest.mark.parametrize("backend", ["compiled", "reference"])
def test_a_pd_and_an_i_snn_side_by_side_sum_their_commands_exactly(backend: str) -> None:
    pd, i = pd_snn("lif", n_pairs=3, n_hidden=7), i_snn("riwta", n_pairs=2, n_hidden=5)
    both = parallel([pd, i])
    rng = np.random.default_rng(1)
    g_pd, g_i = pd.parameters.sample(1, rng)[0], i.parameters.sample(1, rng)[0]
    genome = parallel_genome([pd, i], [g_pd, g_i])
    xs = torch.as_tensor(rng.normal(0.0, 0.3, (300, 1, 1)))
    xs[40] = float("nan")  # a dropout, held by the shared sample-hold encoder
    out_pd, state_pd, net_pd = _run(pd, g_pd, xs, backend)
    out_i, state_i, net_i = _run(i, g_i, xs, backend)
    out, state, net = _run(both, genome, xs, backend)
    assert torch.equal(out, out_pd + out_i)
    assert both.n_outputs == 1 and both.n_neurons == pd.n_neurons + i.n_neurons + 1
    # The same spikes and synaptic operations: no synapse joins the two networks.
    assert torch.equal(state.spikes[:, :3], state_pd.spikes + state_i.spikes)
    assert torch.equal(state.sops, state_pd.sops + state_i.sops)
    assert energy_report(net, state).spikes.sum() == energy_report(net_pd, state_pd).spikes.sum() + energy_report(
        net_i, state_i
    ).spikes.sum()


def test_composites_compose_too() -> None:
    """Two PD+I composites side by side: their sum layers were both named 'output' and the composite refused."""
    pd, i = pd_snn("lif", n_pairs=3, n_hidden=7), i_snn("riwta", n_pairs=2, n_hidden=5)
    rng = np.random.default_rng(2)
    pd_i = parallel([pd, i])
    genome = parallel_genome([pd, i], [pd.parameters.sample(1, rng)[0], i.parameters.sample(1, rng)[0]])
    twice = parallel([pd_i, pd_i])
    assert [layer.name for layer in twice.layers][-2:] == ["output", "output_2"]
    xs = torch.as_tensor(rng.normal(0.0, 0.3, (200, 1, 1)))
    out, _, _ = _run(pd_i, genome, xs)
    out_twice, _, _ = _run(twice, parallel_genome([pd_i, pd_i], [genome, genome]), xs)
    assert torch.equal(out_twice, out + out)


def test_the_genome_is_the_parts_concatenated_and_keeps_each_parts_bounds() -> None:
    pd, i = pd_snn("lif", n_pairs=2, n_hidden=4), i_snn("iwta", n_pairs=2, n_hidden=4)
    both = parallel([pd, i])
    # One unused entry: decay_th of the plain-LIF block beside the IWTA block.
    assert both.parameters.size == pd.parameters.size + i.parameters.size + 1
    decay = both.parameters.by_name["readout.decay_mem"]
    np.testing.assert_array_equal(decay.flat_bounds()[1], [1.0, 0.3])  # PD readout [0, 1], I readout [0, 0.3]
    genome = both.parameters.initial()
    genome[decay.slice] = [0.9, 0.9]
    with pytest.raises(Exception, match=r"readout.decay_mem lies outside \[0.0, 0.3\]"):
        both.parameters.check(genome)


def test_split_genome_takes_each_network_back_out_of_a_composite() -> None:
    pd, i = pd_snn("lif", n_pairs=2, n_hidden=4), i_snn("iwta", n_pairs=3, n_hidden=5)
    rng = np.random.default_rng(4)
    parts = [pd.parameters.sample(1, rng)[0], i.parameters.sample(1, rng)[0]]
    back = split_genome([pd, i], parallel_genome([pd, i], parts))
    assert len(back) == 2
    for got, want in zip(back, parts, strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(Exception, match="genome"):
        split_genome([pd, i], parts[0])  # not the composite's genome


def test_part_patterns_select_exactly_one_networks_entries() -> None:
    from evolution.problem import free_mask

    pd, i = pd_snn("lif", n_pairs=2, n_hidden=4), i_snn("iwta", n_pairs=3, n_hidden=5)
    both = parallel([pd, i])
    for index, net in enumerate((pd, i)):
        mask = free_mask(both, part_patterns([pd, i], index))
        assert mask.sum() == net.parameters.size
        # Changing the selected entries changes that network's genome only.
        rng = np.random.default_rng(index)
        parts = [pd.parameters.initial(), i.parameters.initial()]
        genome = parallel_genome([pd, i], parts)
        genome[mask] = both.parameters.sample(1, rng)[0][mask]
        changed = [not np.array_equal(new, old) for new, old in zip(split_genome([pd, i], genome), parts, strict=True)]
        assert changed == [k == index for k in range(2)]


def test_a_composite_saves_and_loads_like_any_controller(tmp_path: Path) -> None:
    pd, i = pd_snn("lif", n_pairs=2, n_hidden=3), i_snn("iwta", n_pairs=2, n_hidden=3)
    both = parallel([pd, i], name="blimp_pd_i")
    rng = np.random.default_rng(2)
    genome = parallel_genome([pd, i], [pd.parameters.sample(1, rng)[0], i.parameters.sample(1, rng)[0]])
    loaded = load_controller(save_controller(tmp_path / "pdi", both, genome))
    assert loaded.spec.to_dict() == both.to_dict()
    np.testing.assert_array_equal(loaded.genome, genome)
    np.testing.assert_array_equal(loaded.spec.parameters.high, both.parameters.high)


def test_incompatible_networks_are_refused_in_one_line() -> None:
    pd = pd_snn("lif", n_pairs=2, n_hidden=3)
    other_dt = pd_snn("lif", n_pairs=2, n_hidden=3, dt=0.05)
    with pytest.raises(SpecError, match="dt"):
        parallel([pd, other_dt])
    hard = NetworkSpec(1, (Layer("a", 3, LIF(reset="hard"), input=Connection()), leaky_readout()))
    soft = NetworkSpec(1, (Layer("a", 3, LIF(), input=Connection()), leaky_readout()))
    with pytest.raises(SpecError, match="cannot share a layer"):
        parallel([hard, soft])
    with pytest.raises(SpecError, match="at least two"):
        parallel([pd])


def test_a_layer_whose_shared_groups_are_a_permutation_keeps_them_in_the_composite() -> None:
    """The groups map was dropped when every index was unique, though not in order: the values landed on the
    wrong neurons (outputs off by 0.37)."""
    a = NetworkSpec(1, (Layer("h", 2, LIF(), bias=True, shared={"theta": np.array([1, 0])}), leaky_readout("o", 1)))
    b = NetworkSpec(1, (Layer("h", 2, LIF(), bias=True), leaky_readout("o", 1)))
    rng = np.random.default_rng(3)
    ga, gb = a.parameters.sample(1, rng)[0], b.parameters.sample(1, rng)[0]
    both, genome = parallel([a, b]), parallel_genome([a, b], [ga, gb])
    parts, whole = Network(a, torch.float64), Network(both, torch.float64)
    theta_a = parts.neuron_field(parts.params(ga), 0, "theta")[0]
    assert torch.equal(whole.neuron_field(whole.params(genome), 0, "theta")[0, :2], theta_a)


def test_compose_takes_adapters_that_differ_in_the_last_bit_of_a_number(tmp_path: Path, capsys) -> None:
    """The two shipped swimmers' observation scale 2*pi/6 was written 0.954929658551372 and 0.9549296585513721:
    compose called them different adapters."""
    from snncontrol.cli import main

    out = tmp_path / "both"
    assert main(["compose", "shipped:swimmer_ncap", "shipped:swimmer_ncap_bodies", "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    first = load_controller(resolve("shipped:swimmer_ncap"))
    assert load_controller(out).io.observation.scale == first.io.observation.scale
    blimp = main(["compose", "shipped:swimmer_ncap", "shipped:blimp", "--out", str(tmp_path / "no")])
    assert blimp == 2 and "different I/O adapters" in capsys.readouterr().err


def test_same_values_compares_numbers_to_a_relative_tolerance_and_the_rest_exactly() -> None:
    from snncontrol.commands.compose import same_values

    assert same_values({"a": [0.954929658551372, 1]}, {"a": (0.9549296585513721, 1)})
    assert same_values({"low": None, "n": 3}, {"low": None, "n": 3.0})
    assert not same_values([1.0], [1.0 + 1e-9])
    assert not same_values({"a": 1.0}, {"a": 1.0, "b": 2.0})
    assert not same_values([1.0, 2.0], [1.0])
    assert not same_values(1.0, True) and not same_values(None, 0.0) and not same_values("1", 1.0)
    assert not same_values("select", "identity") and not same_values(0, 1)
