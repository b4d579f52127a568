"""Network execution: batching, the compiled loop against the reference step, connection features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncontrol import layer_table
from snncontrol.connections import Connection
from snncontrol.encoders import SampleHoldEncoder
from snncontrol.errors import GenomeError, SpecError
from snncontrol.layers import Layer, direct_current_encoding, leaky_readout, paired_encoding
from snncontrol.network import Network
from snncontrol.neurons import LIF, Graded, LeakyIntegrator
from snncontrol.neurons.models import neuron_from_dict
from snncontrol.spec import NetworkSpec


def rich_spec() -> NetworkSpec:
    """Every feature the compiled loop interprets: paired encoding, recurrence, IWTA, spike adaptation,
    refractoriness, hard reset, graded units, a leaky readout."""
    n_enc = 8
    return NetworkSpec(
        n_inputs=1,
        dt=0.1,
        layers=(
            paired_encoding("enc", n_enc // 2),
            Layer("rec", 12, LIF(adaptation="iwta"), recurrent=Connection(), threshold_input=Connection()),
            Layer("adapt", 10, LIF(reset="hard", adaptation="spike", refractory=2), bias=True),
            Layer("graded", 6, Graded(), bias=True),
            leaky_readout("out", 2),
        ),
    )


def random_inputs(steps: int, batch: int, n: int, seed: int = 1) -> torch.Tensor:
    return torch.as_tensor(np.random.default_rng(seed).normal(0.0, 1.5, size=(steps, batch, n)))


@pytest.mark.parametrize("backend", ["reference", "compiled"])
def test_population_stepped_together_equals_each_individual_alone(backend: str) -> None:
    spec = rich_spec()
    net = Network(spec, dtype=torch.float64)
    genomes = spec.parameters.sample(5, np.random.default_rng(0))
    xs = random_inputs(60, 5, 1)
    together, state = net.rollout(net.params(genomes), xs, net.init_state(5), backend=backend)
    for p in range(5):
        alone, single = net.rollout(net.params(genomes[p]), xs[:, p : p + 1], net.init_state(1), backend=backend)
        assert torch.equal(together[:, p : p + 1], alone)
        assert torch.equal(state.out[p], single.out[0])
        assert torch.equal(state.sops[p], single.sops[0])


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_compiled_rollout_reproduces_reference_step(dtype: torch.dtype) -> None:
    spec = rich_spec()
    net = Network(spec, dtype=dtype)
    params = net.params(spec.parameters.sample(16, np.random.default_rng(3)))
    xs = random_inputs(300, 16, 1)
    ref, ref_state = net.rollout(params, xs, net.init_state(16), backend="reference")
    fast, fast_state = net.rollout(params, xs, net.init_state(16), backend="compiled")
    assert ref_state.spikes.sum() > 100, "the test network must actually spike"
    torch.testing.assert_close(fast, ref)
    for name in ("i", "v", "a", "r", "out", "spikes", "sops", "steps"):
        torch.testing.assert_close(getattr(fast_state, name), getattr(ref_state, name), msg=name)


def test_step_by_step_equals_rollout_and_state_carries_over() -> None:
    spec = rich_spec()
    net = Network(spec, dtype=torch.float64)
    params = net.params(spec.parameters.sample(3, np.random.default_rng(4)))
    xs = random_inputs(40, 3, 1)
    whole, _ = net.rollout(params, xs, net.init_state(3))
    first, state = net.rollout(params, xs[:25], net.init_state(3))
    rest, _ = net.rollout(params, xs[25:], state)
    assert torch.equal(torch.cat([first, rest]), whole)
    state = net.init_state(3)
    for t in range(40):
        out, state = net.step(params, xs[t], state)
        assert torch.equal(out, whole[t])


def test_synaptic_delay_shifts_arrival_by_its_steps() -> None:
    source = Layer(
        "src",
        1,
        LIF(synaptic=False),
        input=Connection(pattern="one_to_one"),
        fixed={"w_in": 5.0, "decay_mem": 0.0, "theta": 1.0},
    )
    target = Layer("dst", 1, LeakyIntegrator(), input=Connection(delay=3), fixed={"w_in": 1.0, "decay_mem": 0.0})
    net = Network(NetworkSpec(n_inputs=1, layers=(source, target)), dtype=torch.float64)
    params = net.params(np.zeros((1, 0)))
    xs = torch.zeros(8, 1, 1, dtype=torch.float64)
    xs[1] = 1.0  # one spike at step 1 -> readout sees it at step 4
    outs, _ = net.rollout(params, xs, net.init_state(1))
    assert outs[:, 0, 0].tolist() == [0, 0, 0, 0, 1, 0, 0, 0]
    with pytest.raises(ValueError, match="delays"):
        net.rollout(params, xs, net.init_state(1), backend="compiled")


def test_sign_constraints_hold_for_any_genome() -> None:
    sign = np.array([1, -1, 0])  # Dale's law: per presynaptic neuron
    spec = NetworkSpec(n_inputs=3, layers=(Layer("l", 4, LIF(), input=Connection(sign=sign)),))
    net = Network(spec)
    w = net.layer_weights(net.params(spec.parameters.sample(50, np.random.default_rng(5))), 0)
    assert (w[:, 0] >= 0).all() and (w[:, 1] <= 0).all()
    assert (w[:, 2] < 0).any() and (w[:, 2] > 0).any()


def test_paired_encoding_shares_magnitude_and_bias_with_opposite_signs() -> None:
    spec = NetworkSpec(n_inputs=1, layers=(paired_encoding("enc", 3),))
    assert spec.parameters.by_name["enc.w_in"].shape == (3,)
    assert spec.parameters.by_name["enc.bias"].shape == (3,)
    net = Network(spec)
    params = net.params(spec.parameters.sample(2, np.random.default_rng(6)))
    w = net.layer_weights(params, 0)[:, 0]
    bias = net.neuron_field(params, 0, "bias")
    torch.testing.assert_close(w[:, 0::2], -w[:, 1::2])
    torch.testing.assert_close(bias[:, 0::2], bias[:, 1::2])


def test_direct_current_encoding_gives_each_neuron_one_channel() -> None:
    spec = NetworkSpec(n_inputs=2, layers=(direct_current_encoding("enc", 4, 2),))
    w = Network(spec).layer_weights(Network(spec).params(spec.parameters.sample(1, np.random.default_rng(0))), 0)[0]
    assert ((w != 0).int().numpy() == np.array([[1, 0, 1, 0], [0, 1, 0, 1]])).all()


def test_mask_removes_synapses_from_weights_and_fan_out() -> None:
    mask = np.array([[1, 0], [0, 1], [1, 1]])
    spec = NetworkSpec(n_inputs=3, layers=(Layer("l", 2, LIF(), input=Connection(mask=mask)),))
    net = Network(spec)
    w = net.layer_weights(net.params(spec.parameters.sample(1, np.random.default_rng(0))), 0)[0]
    assert ((w != 0).int().numpy() == mask).all()
    assert net.fan_in.tolist() == [1, 1, 2]


def test_genome_of_wrong_length_or_out_of_bounds_is_refused() -> None:
    spec = rich_spec()
    net = Network(spec)
    with pytest.raises(GenomeError, match=f"{spec.parameters.size} values"):
        net.params(np.zeros(3))
    genome = spec.parameters.initial()
    genome[spec.parameters.by_name["rec.theta"].offset] = 99.0
    with pytest.raises(GenomeError, match=r"rec\.theta lies outside \[0.0, 10.0\]"):
        net.params(genome)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ((), "at least one layer"),
        ((Layer("a b", 2, LIF()),), "identifier"),
        ((Layer("a", 2, LIF()), Layer("a", 2, LIF())), "unique"),
        ((Layer("a", 2, LIF(adaptation="iwta")),), "iwta"),
        ((Layer("a", 2, LIF(), fixed={"nope": 1.0}),), "unknown parameter"),
        ((Layer("a", 3, LIF(), input=Connection(pattern="one_to_one")),), "one_to_one"),
    ],
)
def test_invalid_specs_raise_one_line_naming_the_problem(layers: tuple[Layer, ...], message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        NetworkSpec(n_inputs=2, layers=layers)
    assert "\n" not in str(info.value)


def test_spec_survives_json_round_trip() -> None:
    spec = rich_spec()
    again = NetworkSpec.from_dict(spec.to_dict())
    assert again.to_dict() == spec.to_dict()
    assert again.parameters.names == spec.parameters.names


def test_population_split_over_threads_gives_the_single_thread_result(monkeypatch: pytest.MonkeyPatch) -> None:
    from snncontrol import compiled

    spec = rich_spec()
    net = Network(spec, dtype=torch.float64)
    params = net.params(spec.parameters.sample(7, np.random.default_rng(8)))
    xs = random_inputs(50, 7, 1)
    whole, whole_state = net.rollout(params, xs, net.init_state(7))
    monkeypatch.setattr(compiled, "PARALLEL_MIN_WORK", 1)
    monkeypatch.setattr(compiled, "_threads", lambda: 3)
    split, split_state = net.rollout(params, xs, net.init_state(7))
    assert torch.equal(split, whole)
    for name in ("i", "v", "out", "spikes", "sops"):
        assert torch.equal(getattr(split_state, name), getattr(whole_state, name))


def test_params_of_another_network_or_population_size_are_refused() -> None:
    spec = rich_spec()
    net = Network(spec)
    other = Network(NetworkSpec(n_inputs=1, layers=(Layer("l", 3, LIF()),)))
    xs = torch.zeros(4, 2, 1)
    with pytest.raises(ValueError, match="population of 2"):
        net.rollout(net.params(spec.parameters.sample(3, np.random.default_rng(0))), xs, net.init_state(2))
    with pytest.raises(ValueError, match="do not fit this network"):
        net.rollout(other.params(other.spec.parameters.sample(2, np.random.default_rng(0))), xs, net.init_state(2))


def test_layer_table_rows_hold_each_layers_layout_in_the_named_columns() -> None:
    spec = rich_spec()
    net = Network(spec)
    rows = net.table.rows
    assert rows.dtype == np.int64 and rows.shape == (len(spec.layers), len(layer_table.COLUMNS))
    for row, layer, lay in zip(rows, spec.layers, net.layout, strict=True):
        assert row[layer_table.KIND] == layer.neuron.code and row[layer_table.SPIKING] == layer.neuron.spiking
        for column in ("n_in", "n", "neuron_offset", "w_in", "w_rec", "w_th", "fan_offset", "source_spiking"):
            assert row[layer_table.COLUMNS.index(column)] == getattr(lay, column), column
    assert rows[:, layer_table.PLAIN].tolist() == [1, 0, 0, 0, 0]  # only the encoder is a plain soft-reset LIF
    assert net.table.fan_in is net.fan_in and net.table.fan_rec is net.fan_rec


@pytest.mark.parametrize("backend", ["reference", "compiled"])
def test_a_rollout_of_no_time_steps_is_one_clear_error(backend: str) -> None:
    """T = 0 raised torch's 'stack expects a non-empty TensorList' (reference) or returned nothing (compiled)."""
    spec = NetworkSpec(1, (Layer("h", 3, LIF()),), encoder=SampleHoldEncoder())
    net = Network(spec, torch.float64)
    with pytest.raises(ValueError, match=r"inputs must have shape \[T >= 1, P=1, n_inputs=1\], got \(0, 1, 1\)"):
        net.rollout(net.params(spec.parameters.initial()), torch.zeros((0, 1, 1)), net.init_state(1), backend=backend)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: NetworkSpec(1, (Layer(["h"], 2, LIF()),)), r"layer names must be strings, got \[\['h'\]\]"),
        (lambda: neuron_from_dict({"kind": ["lif"]}), "neuron.kind must be one of"),
        (lambda: NetworkSpec(1, (Layer("h", 2, LIF(), shared={"theta": [[0], [0, 1]]}),)),
         r"shared\['theta'\] must be 2 non-negative group indices"),
    ],
    ids=["list-name", "list-kind", "ragged-shared"],
)
def test_malformed_specs_are_one_spec_error(make, message) -> None:
    """Each raised Python's own TypeError ('unhashable type') or numpy's ValueError (ragged array) instead."""
    with pytest.raises(SpecError, match=message):
        make()


def test_a_state_of_another_network_or_float_type_is_refused_in_one_line() -> None:
    """The compiled loop does not bounds-check: a larger network given a smaller one's state corrupted the heap
    (the process killed: not tried here), a smaller one given a larger one's ran on and returned it, a float64
    state ran in a float32 network, and the reference path raised torch's size mismatch."""
    from snncontrol.controllers.blimp.networks import pd_snn

    small, big = Network(pd_snn("lif", 2, 3)), Network(pd_snn("lif", 10, 59))
    xs = torch.zeros(3, 2, 1)

    def params(net: Network) -> object:
        return net.params(np.repeat(net.spec.parameters.initial()[None], 2, axis=0))

    with pytest.raises(ValueError, match=r"the state does not fit this network \(8 neurons, torch.float32\): its i "
                                         r"is \(\(2, 80\), torch.float32\), expected \(\(2, 8\)"):
        small.rollout(params(small), xs, big.init_state(2))
    with pytest.raises(ValueError, match=r"the state does not fit this network \(80 neurons"):
        big.rollout(params(big), xs, small.init_state(2), backend="reference")
    with pytest.raises(ValueError, match=r"its i is \(\(2, 8\), torch.float64\), expected \(\(2, 8\), torch.float32\)"):
        small.rollout(params(small), xs, Network(small.spec, torch.float64).init_state(2))
    with pytest.raises(ValueError, match="the state does not fit"):
        small.trace(params(small), xs, big.init_state(2))
    _, state = small.rollout(params(small), xs, small.init_state(2))  # its own state: fine
    small.check_state(state)


def test_an_encoder_or_decoder_state_of_another_network_is_refused() -> None:
    """The neurons alone were compared: a decoder window of 5 in a network of 10 gave 15 outputs for 20 inputs, the
    state of a network of dt 0.01 s reported 40 Hz in one of 0.02 s (the rate scale is in the state), and a
    Poisson encoder took a regular encoder's phases as its counter."""
    from snncontrol.decoders import RateDecoder
    from snncontrol.encoders import PoissonEncoder, RegularEncoder

    def net(**changes: object) -> Network:
        return Network(NetworkSpec(**{"n_inputs": 2, "layers": (Layer("h", 3, LIF()),), "decoder": RateDecoder(10),
                                      "dt": 0.02, **changes}))

    ours = net(encoder=PoissonEncoder(1.0))
    params, x = ours.params(ours.parameters.initial()), torch.zeros(1, 2)
    poisson = PoissonEncoder(1.0)
    for other, message in (
        (net(encoder=poisson, decoder=RateDecoder(5)), r"decoder\[0\] is \(\(1, 5, 3\), torch.float32\), expected "
         r"\(\(1, 10"),
        (net(encoder=poisson, dt=0.01), r"its encoder\[1\] is the constant 0.01, expected 0.02 "),
        (net(encoder=RegularEncoder(1.0)), r"encoder\[0\] is \(\(1, 2\), torch.float32\), expected \(\(\), torch.int"),
        (net(), "its encoder is 0 tensors, expected 2 tensors"),
    ):
        with pytest.raises(ValueError, match=message):
            ours.step(params, x, other.init_state(1))
    state = ours.init_state(1)
    for _ in range(3):  # its own state, stepped (the counter moves, the scales stay)
        _, state = ours.step(params, x, state)
