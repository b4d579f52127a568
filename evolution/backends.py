"""Where a population is evaluated: `serial` (in the driver, one batched call), `process` (a local spawn pool,
one chunk per worker) and `ray` (one task per chunk on an existing cluster or a local one).

All three return the same values for the same genomes: each chunk is evaluated batched by the same fitness
code and an individual's value never depends on its chunk. Workers get plain arrays and the worker config
(`evolution.worker`). A worker that dies mid-evaluation is retried: the process pool is rebuilt and the
lost chunks resubmitted (up to `max_retries` times); Ray retries the task itself (`max_retries`). Process
workers die with the driver, however it ends (`evolution.worker.die_with_parent`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

import numpy as np

from evolution import loopback
from evolution.config import BackendConfig
from evolution.errors import ConfigError, WorkerError
from evolution.fitness import Fitness
from evolution.worker import evaluate_chunk, init_worker

log = logging.getLogger(__name__)
LOCAL_RAY_LISTENS_EVERYWHERE = (
    "a local Ray listens on every network interface of this machine (its token authentication is on); to keep it "
    "to this machine run `python -m evolution.loopback snncontrol evolve ...` (docs/evolution.md)"
)


class Backend(Protocol):
    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        """Objective values [P, M] of genomes [P, D]."""
        ...

    def close(self) -> None: ...


class SerialBackend:
    """The driver's own fitness, the whole population in one call."""

    def __init__(self, fitness: Fitness) -> None:
        self.fitness = fitness

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        return self.fitness.evaluate(genomes, data)

    def close(self) -> None:
        pass


class ProcessBackend:
    """A pool of `workers` spawned processes; the population is split into `workers` chunks."""

    def __init__(self, config: dict[str, Any], workers: int, max_retries: int) -> None:
        self.config, self.workers, self.max_retries = config, workers, max_retries
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_worker, initargs=(os.getpid(),))

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        chunks = np.array_split(genomes, min(self.workers, len(genomes)))
        results: list[np.ndarray | None] = [None] * len(chunks)
        pending = list(range(len(chunks)))
        for _ in range(self.max_retries + 1):
            futures = {i: self.pool.submit(evaluate_chunk, self.config, chunks[i], data) for i in pending}
            lost = []
            for i, future in futures.items():
                try:
                    results[i] = future.result()
                except BrokenProcessPool:
                    lost.append(i)
            if not lost:
                return np.concatenate(results)  # type: ignore[arg-type]
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()
            pending = lost
        raise WorkerError(f"process workers died on {len(pending)} chunk(s) in {self.max_retries + 1} attempts")

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class RayBackend:
    """One Ray task per chunk. Joins the cluster at `address` (refused in one line where nothing answers there),
    else uses a running Ray or starts a local one (node IP 127.0.0.1, dashboard off, `workers` CPUs) that `close`
    shuts down again. A local Ray's servers listen on every interface whatever its node IP: outside
    `python -m evolution.loopback` (only a loopback network) that is said in a warning."""

    def __init__(self, config: dict[str, Any], workers: int | None, address: str | None, max_retries: int) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("backend ray needs the 'ray' package (pip install 'snncontrol[dist]')") from None
        self.ray = ray
        self.owns_ray = not ray.is_initialized()
        if self.owns_ray:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            if address:
                _check_reachable(address)
                try:
                    ray.init(address=address, log_to_driver=False)
                except ConnectionError as exc:  # address "auto" with no Ray running
                    raise ConfigError(f"cannot join the Ray cluster at {address}: {exc}") from None
            else:
                if not loopback.isolated():
                    log.warning(LOCAL_RAY_LISTENS_EVERYWHERE)
                ray.init(
                    num_cpus=workers or os.cpu_count(),
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    log_to_driver=False,
                )
        self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(evaluate_chunk)
        self.config_ref = ray.put(config)

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        chunks = np.array_split(genomes, min(self.workers, len(genomes)))
        data_ref = self.ray.put(data)
        refs = [self.task.remote(self.config_ref, chunk, data_ref) for chunk in chunks]
        try:
            return np.concatenate(self.ray.get(refs))
        except (self.ray.exceptions.WorkerCrashedError, self.ray.exceptions.NodeDiedError) as exc:
            raise WorkerError(f"ray workers kept dying after every retry ({type(exc).__name__})") from None

    def close(self) -> None:
        if self.owns_ray:
            self.ray.shutdown()


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Refuse a HOST:PORT where no server answers within `timeout_s` (Ray would retry it for ever)."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return  # "auto", "ray://..." and the like: Ray resolves and reports them itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def build_backend(cfg: BackendConfig, fitness: Fitness, config: dict[str, Any]) -> Backend:
    """The backend `cfg` names; `fitness` is the driver's (serial), `config` the worker config (others)."""
    if cfg.name == "serial":
        return SerialBackend(fitness)
    if cfg.name == "process":
        return ProcessBackend(config, cfg.workers or os.cpu_count() or 1, cfg.max_retries)
    return RayBackend(config, cfg.workers, cfg.address, cfg.max_retries)
