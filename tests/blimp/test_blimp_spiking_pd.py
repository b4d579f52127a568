"""The constructed spiking PD: a proportional map without a dead band, a derivative, and it holds to the cm."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snncontrol.artifacts import Controller, read_artifact
from snncontrol.controllers import SHIPPED
from snncontrol.controllers.blimp import pd_snn
from snncontrol.controllers.blimp.integrator import constant_error_response
from snncontrol.controllers.blimp.networks import BLIMP_IO
from snncontrol.controllers.blimp.spiking_pd import encoder_code, pd_genome, spiking_pd_i
from snncontrol.errors import SpecError
from snncontrol.evaluation.blimp_eval import figures, plant_kwargs
from snncontrol.evaluation.blimp_flight import fly_blimps
from snncontrol.network import Network
from snncontrol.policy import SNNPolicy


def test_the_encoder_code_averages_the_error_from_millimetres_to_a_metre() -> None:
    theta, weights = encoder_code(9, 0.01, 2.0)
    np.testing.assert_allclose(theta[1:] / theta[:-1], 2.0)
    assert np.all(weights > 0) and np.all(np.diff(weights) > 0)  # wider pairs weigh more


def test_the_proportional_map_is_odd_monotone_and_silent_only_at_zero() -> None:
    spec = pd_snn("iwta")
    genome = pd_genome(spec)  # kp = 3 per m, kd = 12 per m/s
    Controller(spec, genome)  # inside the paper's bounds (the controller checks them)
    errors = np.array([0.005, 0.01, 0.02, 0.05, 0.1])
    u = constant_error_response(spec, genome, np.r_[-errors[::-1], 0.0, errors], 300)[100:].mean(axis=0)
    negative, zero, positive = u[:5][::-1], u[5], u[6:]
    assert zero == 0.0  # no spike at all from the PD at zero error (the tonic pair's current stays below threshold)
    np.testing.assert_allclose(negative, -positive, atol=1e-9)
    assert np.all(positive > 0) and np.all(np.diff(positive) > 0)  # already 5 mm moves it: no dead band
    np.testing.assert_allclose(positive[3], 3.0 * 0.05, rtol=1e-6)  # calibrated: kp at 5 cm
    np.testing.assert_allclose(positive / errors, 3.0, rtol=0.6)  # close to proportional from 5 mm to 10 cm


@pytest.mark.parametrize("slope", [0.02, -0.05])
def test_a_ramping_error_adds_about_kd_times_its_rate(slope: float) -> None:
    spec = pd_snn("iwta")
    net = Network(spec, torch.float64)
    t = np.arange(300) * 0.1
    error = np.clip(slope * (t - 5.0), -0.1, 0.1) * (t >= 5.0)
    out, _ = net.rollout(net.params(pd_genome(spec)[None]), torch.as_tensor(error[:, None, None]), net.init_state(1))
    u = out[:, 0, 0].numpy()
    ramp = (np.abs(error) > 0.03) & (np.abs(error) < 0.09)
    kd = float(np.mean(u[ramp] - 3.0 * error[ramp]) / slope)
    assert 7.0 < kd < 17.0, kd  # the default kd is 12 command units per m/s


def test_the_constructed_pd_i_holds_calm_plants_to_about_a_centimetre() -> None:
    spec, genome = spiking_pd_i()
    controller = Controller(spec, genome, io=BLIMP_IO)
    seeds = [200, 201, 202, 203]  # plants its gains were not chosen on
    result, _ = figures(fly_blimps(SNNPolicy.of(controller, batch=len(seeds)), seeds, **plant_kwargs("calm")))
    assert result["ss_error_cm_median"] < 1.2 and result["ss_error_cm_worst"] < 2.5, result
    assert result["overshoot_up_cm_worst"] < 20.0 and result["overshoot_down_cm_worst"] < 20.0, result


def test_the_shipped_controller_is_the_construction() -> None:
    """The shipped PD+I is `spiking_pd_i()` (the construction's calibration runs in floating point: to 1e-9)."""
    spec, genome, _, io = read_artifact(SHIPPED["blimp"])
    constructed_spec, constructed = spiking_pd_i()
    assert spec.to_dict() == constructed_spec.to_dict() and io.to_dict() == BLIMP_IO.to_dict()
    np.testing.assert_allclose(genome, constructed, rtol=1e-9, atol=0.0)


def test_networks_it_cannot_build_are_refused_in_one_line() -> None:
    with pytest.raises(SpecError, match="IWTA hidden layer"):
        pd_genome(pd_snn("lif"))
    with pytest.raises(SpecError, match="kp > 0"):
        pd_genome(pd_snn("iwta"), kp=-1.0)
    with pytest.raises(SpecError, match="at least 2 encoder pairs"):
        pd_genome(pd_snn("iwta", 1, 4))
