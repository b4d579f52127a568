"""Encoders (value -> currents/spikes) and decoders (outputs -> command)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncontrol.connections import Connection
from snncontrol.decoders import PopulationVectorDecoder, RateDecoder
from snncontrol.encoders import (
    PoissonEncoder,
    PopulationEncoder,
    RegularEncoder,
    SampleHoldEncoder,
    SendOnDeltaEncoder,
)
from snncontrol.errors import SpecError
from snncontrol.layers import Layer
from snncontrol.network import Network
from snncontrol.neurons import LIF
from snncontrol.spec import NetworkSpec


def test_population_encoder_peaks_at_the_preferred_value() -> None:
    enc = PopulationEncoder(n_per_input=5, low=-1.0, high=1.0)
    y, _ = enc.step(torch.tensor([[0.5, -1.0]]), ())
    assert y.shape == (1, 10)
    assert int(y[0, :5].argmax()) == 3 and int(y[0, 5:].argmax()) == 0
    assert float(y[0, 3]) == pytest.approx(1.0)


def test_poisson_encoder_fires_at_the_coded_rate_and_replays_exactly() -> None:
    enc = PoissonEncoder(rate_per_unit=0.25, seed=3)  # pixel 200 -> 50 Hz
    dt = 0.001
    xs = torch.full((4000, 2, 1), 200.0)
    state = enc.init_state(2, 1, dt, torch.float32)
    spikes, _ = enc.rollout(xs, state)
    rate = spikes.mean().item() / dt
    assert 45 < rate < 55
    again, _ = enc.rollout(xs, enc.init_state(2, 1, dt, torch.float32))
    assert torch.equal(spikes, again)
    stepped = torch.stack([enc.step(xs[0], (torch.tensor(t), state[1]))[0] for t in range(5)])
    assert torch.equal(stepped, spikes[:5])


def test_a_poisson_seed_beyond_32_bits_is_refused() -> None:
    """torch's CPU generator keeps 32 bits of its seed: 7 and 7 + 2**32 gave the same spikes."""
    assert PoissonEncoder(seed=2**32 - 1).seed == 2**32 - 1
    with pytest.raises(SpecError, match=r"PoissonEncoder\.seed"):
        PoissonEncoder(seed=2**32 + 7)


def test_send_on_delta_emits_one_event_per_delta_crossed() -> None:
    enc = SendOnDeltaEncoder(delta=0.1)
    state = enc.init_state(1, 1, 0.1, torch.float64)
    events = []
    for x in [1.0, 1.05, 1.25, 1.25, 1.0, float("nan"), 1.0]:
        y, state = enc.step(torch.tensor([[x]], dtype=torch.float64), state)
        events.append(y[0].tolist())
    assert events == [[0, 0], [0, 0], [2, 0], [0, 0], [0, 2], [0, 0], [0, 0]]


def _rolled_and_stepped(decoder, ys: torch.Tensor, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoder's outputs over ys [T, P, n] by one rollout and by T steps, from rest."""
    state = decoder.init_state(ys.shape[1], ys.shape[2], dt, ys.dtype)
    rolled, _ = decoder.rollout(ys, state)
    stepped = []
    for y in ys:
        out, state = decoder.step(y, state)
        stepped.append(out)
    return rolled, torch.stack(stepped)


def test_rate_decoder_rollout_equals_steps_and_reports_hz() -> None:
    dec = RateDecoder(window=4)
    ys = (torch.rand(30, 2, 3, generator=torch.Generator().manual_seed(0)) > 0.5).double()
    torch.testing.assert_close(*_rolled_and_stepped(dec, ys, 0.05))
    ones = dec.rollout(torch.ones(10, 1, 1, dtype=torch.float64), dec.init_state(1, 1, 0.05, torch.float64))[0]
    assert float(ones[-1]) == pytest.approx(20.0)  # 1 spike per 0.05 s step


def test_population_vector_decodes_the_weighted_preferred_value() -> None:
    dec = PopulationVectorDecoder(preferred=(-1.0, 0.0, 1.0), window=2)
    state = dec.init_state(1, 3, 0.1, torch.float64)
    value, state = dec.step(torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64), state)
    assert float(value) == pytest.approx(0.5)
    silent, _ = dec.rollout(torch.zeros(3, 1, 3, dtype=torch.float64), state)
    assert float(silent[-1]) == 0.0


def test_a_poisson_network_copy_spikes_the_same_alone_as_at_any_place_in_a_batch() -> None:
    """An evolved individual is evaluated at whatever place its chunk gives it (backends, worker counts) and
    deployed alone: with shared noise its outputs are the same everywhere."""
    spec = NetworkSpec(n_inputs=2, dt=0.01, encoder=PoissonEncoder(rate_per_unit=30.0, seed=5),
                       layers=(Layer("h", 4, LIF(), bounds={"w_in": (0.5, 2.0), "theta": (0.2, 1.0)}),))
    net = Network(spec, dtype=torch.float64)
    genomes = spec.parameters.sample(5, np.random.default_rng(2))
    xs = torch.as_tensor(np.random.default_rng(3).uniform(0, 1, size=(200, 1, 2))).expand(200, 5, 2)
    batch, _ = net.rollout(net.params(genomes), xs, net.init_state(5))
    for p in (0, 3):
        alone, _ = net.rollout(net.params(genomes[p : p + 1]), xs[:, :1], net.init_state(1))
        assert torch.equal(alone[:, 0], batch[:, p])
    assert (batch.sum(dim=(0, 2)) > 100).all()  # every copy spikes: the comparison says something


def test_a_poisson_encoder_without_shared_noise_draws_each_copy_its_own() -> None:
    xs = torch.full((300, 3, 4), 100.0)
    own, shared = PoissonEncoder(0.5, seed=1, shared_noise=False), PoissonEncoder(0.5, seed=1)  # 50 Hz, dt 0.01
    spikes, _ = own.rollout(xs, own.init_state(3, 4, 0.01, torch.float32))
    shared, _ = shared.rollout(xs, shared.init_state(3, 4, 0.01, torch.float32))
    assert not torch.equal(spikes[:, 0], spikes[:, 1]) and torch.equal(shared[:, 0], shared[:, 2])
    assert torch.equal(spikes[:, 0], shared[:, 0])  # copy 0 draws what every copy shares
    with pytest.raises(SpecError, match="shared_noise must be true or false"):
        PoissonEncoder(shared_noise="no")  # type: ignore[arg-type]


def test_network_with_encoder_and_decoder_runs_compiled_and_reference_alike() -> None:
    spec = NetworkSpec(
        n_inputs=2,
        dt=0.01,
        encoder=PopulationEncoder(n_per_input=4, gain=2.0),
        layers=(Layer("h", 6, LIF(), input=Connection()),),
        decoder=RateDecoder(window=5),
    )
    net = Network(spec, dtype=torch.float64)
    params = net.params(spec.parameters.sample(3, np.random.default_rng(0)))
    xs = torch.as_tensor(np.random.default_rng(1).uniform(-1, 1, size=(50, 3, 2)))
    a, _ = net.rollout(params, xs, net.init_state(3), backend="reference")
    b, _ = net.rollout(params, xs, net.init_state(3), backend="compiled")
    assert a.shape == (50, 3, 6)
    torch.testing.assert_close(a, b)


def test_bad_encoder_arguments_raise_clear_errors() -> None:
    with pytest.raises(SpecError, match="delta"):
        SendOnDeltaEncoder(delta=0.0)
    with pytest.raises(SpecError, match="n_per_input"):
        PopulationEncoder(n_per_input=1)
    for bounds in ({"low": -1e308, "high": 1e308}, {"gain": 1e200}):  # loaded, then crashed torch.linspace
        with pytest.raises(SpecError, match=r"must lie within \+-1e\+30 \(the float32"):
            PopulationEncoder(**bounds)
    with pytest.raises(SpecError, match="the fields' width at least 1e-30"):
        PopulationEncoder(low=0.0, high=1e-35)
    with pytest.raises(SpecError, match="window"):
        RateDecoder(window=0)
    assert np.isfinite(PoissonEncoder().rate_per_unit)


def test_sample_hold_repeats_the_last_finite_input_and_its_rollout_equals_its_steps() -> None:
    enc = SampleHoldEncoder()
    nan = float("nan")
    xs = torch.tensor([[[nan, 1.0]], [[2.0, nan]], [[nan, float("inf")]], [[3.0, 4.0]]], dtype=torch.float64)
    state = (torch.tensor([[7.0, 8.0]], dtype=torch.float64),)
    rolled, (last,) = enc.rollout(xs, state)
    assert rolled[:, 0].tolist() == [[7.0, 1.0], [2.0, 1.0], [2.0, 1.0], [3.0, 4.0]]
    assert last.tolist() == [[3.0, 4.0]]
    stepped = []
    for x in xs:
        y, state = enc.step(x, state)
        stepped.append(y)
    assert torch.equal(torch.stack(stepped), rolled)


def test_a_network_behind_a_sample_hold_sees_a_dropout_as_its_last_sample() -> None:
    layers = (Layer("hidden", 4, LIF(), bias=True),)
    spec = NetworkSpec(n_inputs=1, layers=layers, encoder=SampleHoldEncoder())
    net = Network(spec, dtype=torch.float64)
    params = net.params(spec.parameters.sample(1, np.random.default_rng(0)))
    with_dropout = torch.tensor([0.5, 0.9, float("nan"), 0.2]).view(4, 1, 1)
    held = torch.tensor([0.5, 0.9, 0.9, 0.2]).view(4, 1, 1)
    out, state = net.rollout(params, with_dropout, net.init_state(1))
    expected, _ = net.rollout(params, held, net.init_state(1))
    assert torch.isfinite(state.v).all()
    assert torch.equal(out, expected)


def test_regular_encoder_fires_within_one_spike_of_the_expected_count_without_randomness():
    enc = RegularEncoder(rate_per_unit=0.25)  # pixel 200 -> 50 Hz
    x = torch.tensor([[0.0, 13.0, 200.0, 255.0, 4000.0]])
    state = enc.init_state(1, 5, 1e-3, torch.float64)
    counts = torch.zeros(5)
    trains = []
    for _ in range(1000):  # 1 s at 1 ms
        spikes, state = enc.step(x, state)
        counts += spikes[0]
        trains.append(spikes[0])
    expected = torch.tensor([0.0, 3.25, 50.0, 63.75, 1000.0])  # capped at one spike per step
    assert ((counts - expected).abs() <= 1.0).all(), counts
    intervals = torch.diff(torch.nonzero(torch.stack(trains)[:, 2])[:, 0])
    assert set(intervals.tolist()) == {20}  # 50 Hz: a spike every 20 steps, regular
    again = enc.init_state(1, 5, 1e-3, torch.float64)
    assert torch.equal(enc.step(x, again)[0], enc.step(x, enc.init_state(1, 5, 1e-3, torch.float64))[0])
    phases = enc.init_state(1, 64, 1e-3, torch.float64)[0]
    assert len(torch.unique(phases)) == 64 and phases.min() >= 0 and phases.max() < 1  # spread, not in lockstep
    with pytest.raises(SpecError, match="rate_per_unit"):
        RegularEncoder(rate_per_unit=0.0)


@pytest.mark.parametrize("delta", [0.3, 0.05, 1.7])
def test_send_on_delta_in_float32_fires_once_per_delta_on_a_long_ramp(delta: float) -> None:
    """The float32 reference drifted by half an ulp per event: on a ramp of one delta per step about one step in
    ten gave 0 events and the next 2."""
    encoder = SendOnDeltaEncoder(delta)
    state = encoder.init_state(1, 1, 0.1, torch.float32)
    counts = []
    for k in range(2000):
        events, state = encoder.step(torch.tensor([[k * delta]], dtype=torch.float32), state)
        assert events.dtype == torch.float32
        counts.append(events[0].tolist())
    assert all(up == 1.0 and down == 0.0 for up, down in counts[1:])


def test_send_on_delta_stays_quiet_on_a_constant_input_coarser_than_its_delta() -> None:
    """The ulp tolerance was unbounded: 5.5e6 (a UTM northing, m) in float32 with a delta of 1 fired 2 events up and
    2 down on every step of a constant value."""
    encoder = SendOnDeltaEncoder(1.0)
    state = encoder.init_state(1, 1, 0.1, torch.float32)
    for _ in range(5):
        events, state = encoder.step(torch.tensor([[5.5e6]], dtype=torch.float32), state)
        assert events.tolist() == [[0.0, 0.0]]


def test_a_send_on_delta_threshold_too_small_for_float32_counts_is_refused() -> None:
    """1e-50 loaded, then was 0 in float32: every output and membrane downstream NaN."""
    with pytest.raises(SpecError, match=r"SendOnDeltaEncoder.delta must be at least 1e-30 \(in the input's unit"):
        SendOnDeltaEncoder(1e-50)


@pytest.mark.parametrize(
    "decoder", [RateDecoder(window=7), PopulationVectorDecoder(preferred=(-1.0, 0.3, 2.0), window=5)]
)
def test_a_decoders_rollout_is_its_steps_bit_for_bit(decoder) -> None:
    """The two summed the window in another order: 1.5e-5 apart on graded values, 1.2e-4 through a network."""
    ys = torch.as_tensor(np.random.default_rng(0).normal(0.0, 300.0, size=(50, 4, 3)), dtype=torch.float32)
    assert torch.equal(*_rolled_and_stepped(decoder, ys, 0.01))
