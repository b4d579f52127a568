"""The Ray backend's checks. A local Ray's servers listen on every interface there is, so these run only where
the only network is the loopback: test_backends.py runs this file as
`python -m evolution.loopback python -m pytest tests/evolution/ray_checks.py` (pytest does not collect it itself)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import numpy as np
import pytest
import ray
from evo_support import check_killed_worker_run, check_same_as_serial, faulty_config, run, sphere_config

from evolution import loopback, rng
from evolution.backends import RayBackend
from evolution.config import parse_config
from evolution.errors import ConfigError
from evolution.problem import resolve_network, worker_config
from snncontrol.seeding import seed_everything

HERE = Path(__file__).parent


def _same_states(a: tuple[dict, dict[str, np.ndarray]], b: tuple[dict, dict[str, np.ndarray]]) -> bool:
    """Whether two `rng.capture()`s hold the same states of random, numpy and torch."""
    return a[0] == b[0] and a[1].keys() == b[1].keys() and all(np.array_equal(a[1][k], b[1][k]) for k in a[1])


def test_a_local_ray_backend_leaves_the_random_generators_as_they_were():
    """Ray draws its ports from `random` when it starts and shuts down: a Ray run's strategy (and a resumed one's)
    drew other numbers than the serial backend's. (First in this file: the backend starts a Ray of its own only
    where none runs, and the module's Ray starts with the first check that uses it.)"""
    assert loopback.isolated() and not ray.is_initialized()
    config = parse_config(sphere_config({"name": "cmaes", "population": 4}, generations=1))
    problem = resolve_network(config.network)
    seed_everything(3)
    before = rng.capture()
    backend = RayBackend(worker_config(config, problem), workers=1, address=None, max_retries=0)
    try:
        assert backend.owns_ray and _same_states(rng.capture(), before), "ray.init drew"
        values = backend.evaluate(problem.to_genome(np.full((2, problem.dim), 0.5)), {})
        assert values.shape == (2, 1) and _same_states(rng.capture(), before), "an evaluation drew"
    finally:
        backend.close()
    assert not ray.is_initialized() and _same_states(rng.capture(), before), "ray.shutdown drew"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module: 2 CPUs, node IP 127.0.0.1, no dashboard, no usage stats."""
    assert loopback.isolated(), "run through tests/evolution/test_backends.py: a local Ray listens on every interface"
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(HERE), "RAY_USAGE_STATS_ENABLED": "0"}},
    )
    yield ray
    ray.shutdown()


def _listening_addresses() -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local address of every listening TCP socket of this network namespace (/proc/net/tcp, tcp6)."""
    addresses: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for table, size in (("tcp", 4), ("tcp6", 16)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state != "0A":  # TCP_LISTEN
                continue
            raw = bytes.fromhex(local.split(":")[0])  # 32-bit words in host (little-endian) order
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, size, 4))
            addresses.append(ipaddress.ip_address(packed))
    return addresses


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def test_every_server_of_the_local_ray_listens_on_loopback_only(local_ray):
    listening = _listening_addresses()
    assert len(listening) >= 4, listening  # GCS, raylet, object manager, a worker at least
    assert all(_is_loopback(address) for address in listening), listening


def test_ray_gives_the_serial_results_with_any_worker_count(local_ray, tmp_path):
    check_same_as_serial("ray", 3, tmp_path)


def test_a_killed_ray_worker_is_retried_and_nothing_is_lost(local_ray, tmp_path):
    run(faulty_config(tmp_path, {"name": "ray", "workers": 2, "max_retries": 2}), tmp_path / "run")
    check_killed_worker_run(tmp_path)


def test_a_hung_ray_worker_is_killed_after_timeout_s_and_its_chunk_retried(local_ray, tmp_path):
    """A stopped worker (SIGSTOP: it neither dies nor answers) stalled the run for ever."""
    backend = {"name": "ray", "workers": 2, "max_retries": 2, "timeout_s": 20.0}
    run(faulty_config(tmp_path, backend, signal="SIGSTOP"), tmp_path / "run")
    check_killed_worker_run(tmp_path)


@pytest.mark.parametrize("error", [ConfigError, ValueError])
def test_an_error_raised_in_a_ray_task_reaches_the_driver_as_itself(local_ray, error, tmp_path):
    """As on the other backends: a ConfigError was a remote traceback in colour, a ValueError lost its message to
    `RayTaskError(ValueError): ray::evaluate_chunk() (pid=...)`."""
    data = sphere_config({"name": "cmaes", "population": 4}, generations=1, backend={"name": "ray", "workers": 2})
    message = "fitness.kwargs.gain: too large for this plant"
    data["fitness"] = {"kind": "custom", "factory": "faulty:make_raise", "objectives": ["sphere"],
                       "kwargs": {"error": error.__name__, "message": message}}
    with pytest.raises(error) as raised:
        run(data, tmp_path / "run")
    assert type(raised.value) is error and str(raised.value) == message
