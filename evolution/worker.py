"""The worker side of the process and ray backends: evaluate one chunk from plain data.

A task carries the worker config (the experiment as a dict, network inlined), a genome chunk [p, D] and the
generation's data arrays. The worker rebuilds the fitness from the config once and caches it, so nothing
of the driver (torch modules, closures) is ever pickled. Heavy imports happen inside the functions, after
`limit_threads`, so a fresh worker process does not start numba or torch with a thread per core.

A pool worker dies with its driver (`die_with_parent`): even a driver killed with SIGKILL, which runs no
clean-up, leaves no worker behind (and with the workers gone, multiprocessing's resource tracker sees its pipe
close and exits too).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import signal
import sys
import threading
import time
from typing import Any

import numpy as np

#: Thread pools sized at import: set only while the module is not imported yet (numba refuses a changed
#: NUMBA_NUM_THREADS once its threads run); afterwards the runtime calls below apply.
THREAD_ENV = {"numba": ("NUMBA_NUM_THREADS", "1"), "torch": ("OMP_NUM_THREADS", "1")}
_CACHE: dict[str, Any] = {}
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCHDOG_PERIOD_S = 0.5


def die_with_parent(parent_pid: int) -> None:
    """End this process when `parent_pid` ends: Linux delivers SIGKILL on the parent's death (prctl
    PR_SET_PDEATHSIG); elsewhere, and as a fallback, a daemon thread checks every WATCHDOG_PERIOD_S (s) whether
    the process has been re-parented."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCHDOG_PERIOD_S)
        os._exit(1)

    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def init_worker(parent_pid: int) -> None:
    """The process pool's initializer: die with the driver `parent_pid`, one compute thread, and leave Ctrl-C to
    the driver (the terminal sends SIGINT to the whole process group: each worker printed its own traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)
    limit_threads()


def limit_threads() -> None:
    """One compute thread per worker: the workers are the parallelism."""
    for module, (name, value) in THREAD_ENV.items():
        if module not in sys.modules:
            os.environ[name] = value
    import numba
    import torch

    torch.set_num_threads(1)
    numba.set_num_threads(1)


def evaluate_chunk(config: dict[str, Any], genomes: np.ndarray, data: dict[str, np.ndarray]) -> np.ndarray:
    """Objective values [p, M] of `genomes` [p, D] under the experiment `config` (fitness cached per config)."""
    limit_threads()
    key = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()
    if key not in _CACHE:
        from evolution import rng
        from evolution.config import parse_config
        from evolution.fitness import build_fitness
        from evolution.problem import resolve_network

        experiment = parse_config(config, "worker config", vetted=True)  # the driver validated it
        _CACHE.clear()
        problem = resolve_network(experiment.network)
        with rng.seeded(experiment.seed):  # as the driver builds it (`Experiment`)
            _CACHE[key] = build_fitness(experiment, problem, worker=True)
    return _CACHE[key].evaluate(genomes, data)
