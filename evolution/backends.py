"""Where a population is evaluated: `serial` (in the driver, one batched call), `process` (a local spawn pool,
one chunk per worker) and `ray` (one task per chunk on an existing cluster or a local one).

All three return the same values for the same genomes: each chunk is evaluated batched by the same fitness
code and an individual's value never depends on its chunk. Workers get plain arrays and the worker config
(`evolution.worker`). A worker that dies mid-evaluation is retried: the process pool is rebuilt and the
lost chunks resubmitted (up to `max_retries` times); Ray retries the task itself (`max_retries`). A chunk with
no result `timeout_s` after its submission (a stopped or deadlocked worker) is resubmitted the same way, its
worker killed. Process workers die with the driver, however it ends (`evolution.worker.die_with_parent`).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

import numpy as np

from evolution import loopback, rng
from evolution.config import BackendConfig
from evolution.errors import ConfigError, WorkerError
from evolution.fitness import Fitness
from evolution.worker import evaluate_chunk, init_worker
from snncontrol.errors import SnnControlError

log = logging.getLogger(__name__)
KILLED_WORKER_WAIT_S = 5.0  # s: a SIGKILLed worker is gone within milliseconds, unless the kernel is stuck
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

    def __init__(self, config: dict[str, Any], workers: int, max_retries: int, timeout_s: float | None) -> None:
        self.config, self.workers, self.max_retries, self.timeout_s = config, workers, max_retries, timeout_s
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context, initializer=init_worker, initargs=(os.getpid(),))

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        chunks = np.array_split(genomes, min(self.workers, len(genomes)))

        def attempt(pending: list[int]) -> Attempt:
            futures = {i: self.pool.submit(evaluate_chunk, self.config, chunks[i], data) for i in pending}
            deadline = None if self.timeout_s is None else time.monotonic() + self.timeout_s
            done, died, hung = {}, [], []
            for i, future in futures.items():
                try:
                    done[i] = future.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
                except BrokenProcessPool:
                    died.append(i)
                except TimeoutError:
                    hung.append(i)
            if died or hung:
                self._replace_pool()
            return done, died, hung

        return _with_retries(len(chunks), self.max_retries, attempt, "process workers", self.timeout_s)

    def _replace_pool(self) -> None:
        """A new pool in place of the old one (see `close`)."""
        self.close()
        self.pool = self._new_pool()

    def close(self) -> None:
        """Kill the workers, wait until they are gone (at most KILLED_WORKER_WAIT_S each), then shut the pool down: a
        hung worker would never take the shutdown, and a run stopped by Ctrl-C must not wait for the chunks still
        running (nor hang on a second Ctrl-C) nor end while its workers still run."""
        processes = list((self.pool._processes or {}).values())  # no public API before Python 3.14
        for process in processes:
            process.kill()
        for process in processes:
            process.join(KILLED_WORKER_WAIT_S)
        self.pool.shutdown(wait=False, cancel_futures=True)


class RayBackend:
    """One Ray task per chunk. Joins the cluster at `address` (refused in one line where nothing answers there),
    else uses a running Ray or starts a local one (node IP 127.0.0.1, dashboard off, `workers` CPUs) that `close`
    shuts down again. A local Ray's servers listen on every interface whatever its node IP: outside
    `python -m evolution.loopback` (only a loopback network) that is said in a warning. Neither its start, its tasks
    nor its shutdown changes the states of random, numpy and torch (`rng.preserved`): a run draws the same numbers on
    every backend."""

    def __init__(
        self, config: dict[str, Any], workers: int | None, address: str | None, max_retries: int,
        timeout_s: float | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("backend ray needs the 'ray' package (pip install 'snncontrol[dist]')") from None
        self.ray, self.max_retries, self.timeout_s = ray, max_retries, timeout_s
        self.owns_ray = not ray.is_initialized()
        with rng.preserved():  # (Ray draws its ports from `random`: a Ray run's strategy drew other numbers)
            if self.owns_ray:
                self._start(address, workers)
            self.workers = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
            self.task = ray.remote(num_cpus=1, max_retries=max_retries, retry_exceptions=False)(evaluate_chunk)
            self.config_ref = ray.put(config)

    def _start(self, address: str | None, workers: int | None) -> None:
        """Join the cluster at `address`, else start a local Ray of `workers` CPUs (None: all of them)."""
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        if address:
            _check_reachable(address)
            try:
                self.ray.init(address=address, log_to_driver=False)
            except ConnectionError as exc:  # address "auto" with no Ray running
                raise ConfigError(f"cannot join the Ray cluster at {address}: {exc}") from None
        else:
            if not loopback.isolated():
                log.warning(LOCAL_RAY_LISTENS_EVERYWHERE)
            self.ray.init(
                num_cpus=workers or os.cpu_count(),
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=False,
            )

    def evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        with rng.preserved():
            return self._evaluate(genomes, data)

    def _evaluate(self, genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
        chunks = np.array_split(genomes, min(self.workers, len(genomes)))
        data_ref = self.ray.put(data)

        def attempt(pending: list[int]) -> Attempt:
            refs = {i: self.task.remote(self.config_ref, chunks[i], data_ref) for i in pending}
            ready = set(self.ray.wait(list(refs.values()), num_returns=len(refs), timeout=self.timeout_s)[0])
            done, hung = {}, []
            for i, ref in refs.items():
                if ref not in ready:
                    self.ray.cancel(ref, force=True)  # kills the worker running it
                    hung.append(i)
                    continue
                try:
                    done[i] = self.ray.get(ref)
                except (self.ray.exceptions.WorkerCrashedError, self.ray.exceptions.NodeDiedError) as exc:
                    raise WorkerError(f"ray workers kept dying after every retry ({type(exc).__name__})") from None
                except self.ray.exceptions.RayTaskError as exc:
                    if exc.cause is None:
                        raise
                    # the task's own exception, as the other backends raise it (the RayTaskError is the remote
                    # traceback, in colour, or `RayTaskError(ValueError): ray::...`): one of ours is one line; any
                    # other keeps the remote traceback as its cause, for a bug in a fitness to be found
                    raise exc.cause from (None if isinstance(exc.cause, SnnControlError) else exc)
            return done, [], hung

        return _with_retries(len(chunks), self.max_retries, attempt, "ray tasks", self.timeout_s)

    def close(self) -> None:
        if self.owns_ray:
            with rng.preserved():
                self.ray.shutdown()


#: one attempt at evaluating some chunks: (values of those done, indices of those whose worker died, of those hung)
Attempt = tuple[dict[int, np.ndarray], list[int], list[int]]


def _with_retries(
    n_chunks: int, max_retries: int, attempt: Callable[[list[int]], Attempt], label: str, timeout_s: float | None
) -> np.ndarray:
    """The values of chunks 0..n_chunks-1, each attempted until it is done, at most `max_retries` + 1 times;
    `label` names the workers in the error."""
    results: dict[int, np.ndarray] = {}
    pending = list(range(n_chunks))
    for _ in range(max_retries + 1):
        done, died, hung = attempt(pending)
        results.update(done)
        pending = sorted(died + hung)
        if not pending:
            return np.concatenate([results[i] for i in range(n_chunks)])
    raise WorkerError(
        f"{label} lost {len(pending)} chunk(s) in {max_retries + 1} attempts (the last: {len(died)} died, "
        f"{len(hung)} gave no result within backend.timeout_s = {timeout_s} s)"
    )


def _check_reachable(address: str, timeout_s: float = 10.0) -> None:
    """Refuse a HOST:PORT where no server answers within `timeout_s` (Ray would retry it for ever)."""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address:
        return  # "auto", "ray://..." and the like: Ray resolves and reports them itself
    if not (port.isascii() and port.isdigit() and 1 <= int(port) <= 65535):
        raise ConfigError(f"the Ray cluster address {address!r} needs a port 1-65535 after its last ':'")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def build_backend(cfg: BackendConfig, fitness: Fitness, config: dict[str, Any]) -> Backend:
    """The backend `cfg` names; `fitness` is the driver's (serial), `config` the worker config (others)."""
    if cfg.name == "serial":
        return SerialBackend(fitness)
    if cfg.name == "process":
        return ProcessBackend(config, cfg.workers or os.cpu_count() or 1, cfg.max_retries, cfg.timeout_s)
    return RayBackend(config, cfg.workers, cfg.address, cfg.max_retries, cfg.timeout_s)
