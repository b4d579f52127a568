"""Test-wide settings: ROS 2 discovery stays on loopback, rendering is offscreen, every test is seeded; and the
benchmark scripts, loaded as modules for the tests that run them small."""

from __future__ import annotations

import os
import sys

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import importlib.util
import itertools
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

_domain_ids = itertools.count(start=(os.getpid() % 50) * 4 + 10)


@pytest.fixture
def ros_domain_id(monkeypatch: pytest.MonkeyPatch) -> int:
    """A ROS_DOMAIN_ID of this test's own (0..232 are valid), set in the environment for it and its children."""
    domain = next(_domain_ids) % 200 + 10
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    return domain


@pytest.fixture
def load_benchmark() -> Callable[[str], ModuleType]:
    """load_benchmark("snn_step") -> benchmarks/snn_step.py as a module (the scripts are not a package)."""

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"{name}_benchmark", BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # as an import does: dataclasses look their module up there
        spec.loader.exec_module(module)
        return module

    return load
