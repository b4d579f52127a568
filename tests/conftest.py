"""Test-wide settings: ROS 2 discovery stays on loopback, rendering is offscreen, every test is seeded."""

from __future__ import annotations

import os

os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", "egl")

import itertools

import pytest

_domain_ids = itertools.count(start=(os.getpid() % 50) * 4 + 10)


@pytest.fixture
def ros_domain_id(monkeypatch: pytest.MonkeyPatch) -> int:
    """A ROS_DOMAIN_ID of this test's own (0..232 are valid), set in the environment for it and its children."""
    domain = next(_domain_ids) % 200 + 10
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    return domain
