"""The constructed spiking integrator I-SNN: it integrates the error, and it replaces a composite's I-SNN."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snncontrol.artifacts import read_artifact
from snncontrol.compose import split_genome
from snncontrol.controllers import SHIPPED
from snncontrol.controllers.blimp import i_snn, pd_snn
from snncontrol.controllers.blimp.integrator import (
    blimp_parts,
    constant_error_response,
    integrator_genome,
    pd_with_integrator,
)
from snncontrol.controllers.blimp.spiking_pd import INTEGRATOR_SETTINGS
from snncontrol.errors import SpecError


@pytest.mark.parametrize("hidden", ["iwta", "lif", "riwta"])
def test_the_integrator_ramps_on_a_constant_error_and_holds_its_offset_at_zero(hidden: str) -> None:
    spec = i_snn(hidden)
    errors = np.array([-0.02, -0.01, 0.0, 0.01, 0.02])
    u = constant_error_response(spec, integrator_genome(spec, offset=0.5), errors, 400)
    seconds = [100, 200, 300]  # 10, 20, 30 s
    mean = np.array([u[k - 50 : k].mean(axis=0) for k in seconds])  # [3, 5], 5 s averages
    np.testing.assert_allclose(mean[:, 2], 0.5, atol=0.02)  # zero error: the offset, nothing integrated
    # A constant error keeps moving the command, the more the larger the error, with its sign.
    assert np.all(np.diff(mean[:, 3:], axis=0) > 0.02) and np.all(np.diff(mean[:, :2], axis=0) < -0.02)
    assert mean[-1, 4] - 0.5 > mean[-1, 3] - 0.5 > 0.05
    np.testing.assert_allclose(mean[:, 3] - 0.5, 0.5 - mean[:, 1], atol=0.02)  # symmetric


def test_detector_pairs_stop_the_integration_at_large_errors_only() -> None:
    spec = i_snn("iwta")
    errors = np.array([0.01, 0.5, -0.5])
    conditional = constant_error_response(spec, integrator_genome(spec, offset=0.0), errors, 300)
    plain = constant_error_response(spec, integrator_genome(spec, offset=0.0, detector_pairs=0), errors, 300)
    late = slice(250, 300)  # 25-30 s
    # Without detectors a 0.5 m error winds the integral up to its limit; with them it grows far less ...
    assert np.all(np.abs(plain[late, 1:].mean(axis=0)) > 1.5)
    assert np.all(np.abs(conditional[late, 1:].mean(axis=0)) < 0.3 * np.abs(plain[late, 1:].mean(axis=0)))
    # ... while a 1 cm error integrates at most of the rate (6 of the 10 pairs integrate, none cancel there).
    assert conditional[late, 0].mean() > 0.5 * plain[late, 0].mean() > 0.04


def test_the_pd_snn_of_a_composite_is_kept_exactly() -> None:
    spec, genome, _, _ = read_artifact(SHIPPED["blimp"])
    parts = blimp_parts(spec)
    assert parts is not None
    _, new = pd_with_integrator(spec, genome, offset=0.3)
    kept_pd, integrator = split_genome(parts, new)
    np.testing.assert_array_equal(kept_pd, split_genome(parts, genome)[0])
    np.testing.assert_array_equal(integrator, integrator_genome(parts[1], offset=0.3))
    # A composite whose I-SNN has another size than its PD-SNN keeps that size (it took the PD-SNN's).
    seed, seed_genome, seed_metadata, _ = read_artifact(SHIPPED["blimp_envelope_seed"])
    rebuilt, rebuilt_genome = pd_with_integrator(seed, seed_genome, **seed_metadata.extra["integrator"])
    assert rebuilt.to_dict() == seed.to_dict()
    np.testing.assert_array_equal(rebuilt_genome, seed_genome)
    # A bare PD-SNN gets the integrator beside it too.
    pd = pd_snn("lif", 3, 5)
    both, both_genome = pd_with_integrator(pd, pd.parameters.initial(), detector_pairs=1)
    assert both.n_neurons == pd.n_neurons + i_snn("iwta", 3, 5).n_neurons + 1
    assert both_genome.size == both.parameters.size


def test_the_shipped_controllers_integrator_is_the_construction_of_its_recorded_settings() -> None:
    """Its run evolved the integrator's input and readout weights, offset and large-error detectors among its
    construction's settings (leak fixed): the I-SNN half is `integrator_genome` of the settings its metadata records,
    bit for bit."""
    spec, genome, metadata, _ = read_artifact(SHIPPED["blimp"])
    construction = metadata.extra["construction"]
    values = {**construction["fixed"], **construction["settings"]}
    settings = {key: value for key, value in values.items() if key in INTEGRATOR_SETTINGS}
    assert settings["leak"] == 1.0  # the envelope's integrator: no leak
    assert {"gain", "readout_weight", "offset", "detector_gain", "detector_bias"} <= set(construction["settings"])
    parts = blimp_parts(spec)
    assert parts is not None
    np.testing.assert_array_equal(split_genome(parts, genome)[1], integrator_genome(parts[1], **settings))


def test_the_shipped_integrator_stops_integrating_far_from_the_set_point() -> None:
    """The anti-windup its run evolved (docs/blimp.md): at a constant 50 cm of error its I-SNN's command moves less
    than a fifth as fast as at 10 cm, and hardly the other way (the controller shipped before integrated 0.105 units
    per s at 50 cm, 0.140 at 10 cm: its blimp wound the integrator up on the way to a set-point); near the set-point
    it integrates (5 cm: about 0.1 units per s)."""
    spec, genome, _, _ = read_artifact(SHIPPED["blimp"])
    parts = blimp_parts(spec)
    assert parts is not None
    errors = np.array([0.05, 0.1, 0.5])
    command = constant_error_response(parts[1], split_genome(parts, genome)[1], errors, 61)
    rate = (command[60] - command[20]) / (40 * spec.dt)  # units per s, 2-6 s after the error starts
    assert rate[0] > 0.05 and rate[1] > 0.05
    assert -0.05 < rate[2] < 0.2 * rate[1]


def test_networks_that_are_not_blimp_snns_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="at least 3 hidden"):
        integrator_genome(i_snn("iwta", 2, 2))
    with pytest.raises(SpecError, match="detector_pairs must be in"):
        integrator_genome(i_snn("iwta", 4, 5), detector_pairs=4)  # no integrating pair left
    result = subprocess.run([sys.executable, "-m", "snncontrol.cli", "blimp-integrator", "--pd",
                             "shipped:swimmer_ncap", "--out", str(tmp_path / "x")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "neither a blimp PD-SNN" in result.stderr
