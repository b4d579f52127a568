"""The parameter spec: genome layout, bounds, round trips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncontrol.errors import GenomeError, SpecError
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.neurons import LIF
from snncontrol.spec import NetworkSpec


def blimp_like() -> NetworkSpec:
    return NetworkSpec(
        n_inputs=1,
        layers=(paired_encoding("enc", 20), Layer("hidden", 40, LIF(), recurrent=None), leaky_readout("out")),
    )


def test_spec_lists_every_parameter_with_shape_and_paper_bounds() -> None:
    ps = blimp_like().parameters
    assert ps.by_name["enc.w_in"].shape == (20,) and (ps.by_name["enc.w_in"].low, ps.by_name["enc.w_in"].high) == (
        -2,
        2,
    )
    assert ps.by_name["hidden.w_in"].shape == (40, 40)
    assert (ps.by_name["hidden.theta"].low, ps.by_name["hidden.theta"].high) == (0, 10)
    assert (ps.by_name["out.w_in"].low, ps.by_name["out.w_in"].high) == (-1, 1)
    assert ps.size == sum(e.size for e in ps.entries) == len(ps.low) == len(ps.high)


def test_flatten_and_unflatten_are_inverse() -> None:
    ps = blimp_like().parameters
    genome = ps.sample(4, np.random.default_rng(0))
    values = ps.unflatten(torch.as_tensor(genome))
    assert np.array_equal(ps.flatten({k: v.numpy() for k, v in values.items()}, batch=4), genome)


def test_sampled_genomes_respect_bounds_and_seed() -> None:
    ps = blimp_like().parameters
    a = ps.sample(200, np.random.default_rng(7))
    assert ((a >= ps.low) & (a <= ps.high)).all()
    assert np.array_equal(a, ps.sample(200, np.random.default_rng(7)))


def test_normalize_maps_bounds_to_unit_cube_and_back() -> None:
    ps = blimp_like().parameters
    genome = ps.sample(3, np.random.default_rng(1))
    unit = ps.normalize(genome)
    assert ((unit >= 0) & (unit <= 1)).all()
    np.testing.assert_allclose(ps.denormalize(unit), genome)


def test_fixed_parameters_leave_the_genome_and_init_sets_the_default() -> None:
    layer = Layer("l", 3, LIF(), fixed={"theta": 1.0}, init={"decay_mem": 0.9}, bounds={"w_in": (-5.0, 5.0)})
    ps = NetworkSpec(n_inputs=2, layers=(layer,)).parameters
    assert "l.theta" not in ps.names
    initial = ps.initial()
    assert (initial[ps.by_name["l.decay_mem"].slice] == 0.9).all()
    assert ps.by_name["l.w_in"].low == -5.0


def test_init_outside_bounds_is_refused() -> None:
    with pytest.raises(SpecError, match="outside its bounds"):
        NetworkSpec(n_inputs=1, layers=(Layer("l", 2, LIF(), init={"theta": 20.0}),))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fixed": {"decay_mem": 1.5}}, r"fixed\['decay_mem'\] must stay within \[0, 1\]"),
        ({"bounds": {"decay_syn": (0.0, 1.2)}}, r"bounds\['decay_syn'\] must stay within \[0, 1\]"),
        ({"bounds": {"decay_mem": (-0.1, 0.9)}}, r"bounds\['decay_mem'\] must stay within \[0, 1\]"),
        ({"fixed": {"theta": -1.0}}, r"fixed\['theta'\] must stay within \[0, inf\]"),
        ({"fixed": {"theta": 1.0}, "init": {"theta": 5.0}}, r"\['theta'\] are fixed, so an init value"),
    ],
)
def test_fixed_values_and_bounds_stay_within_the_neuron_models_limits(overrides: dict, message: str) -> None:
    """A decay above 1 grew the membrane to 1e33 in 200 steps, a negative threshold fired for ever: the spec refuses
    them in one line however they are given (fixed, bounds, or an init that a fixed value would silently ignore)."""
    with pytest.raises(SpecError, match=message):
        NetworkSpec(n_inputs=1, layers=(Layer("l", 2, LIF(), **overrides),))
    layer = {"name": "l", "size": 2, "neuron": {"kind": "lif"}, "fixed": {"decay_mem": 2}}
    spec = NetworkSpec(n_inputs=1, layers=(Layer("ok", 2, LIF()),)).to_dict() | {"layers": [layer]}
    with pytest.raises(SpecError, match="must stay within"):
        NetworkSpec.from_dict(spec)
    NetworkSpec(n_inputs=1, layers=(Layer("l", 2, LIF(), fixed={"theta": 0.0, "decay_mem": 1.0}),))  # the limits


def test_non_finite_genome_is_refused() -> None:
    ps = blimp_like().parameters
    genome = ps.initial()
    genome[0] = np.nan
    with pytest.raises(GenomeError, match="NaN"):
        ps.check(genome)
