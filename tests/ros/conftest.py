"""Fixtures of the ROS 2 tests: a blimp controller artifact, an rclpy context on the test's own domain, and
an executor to spin nodes in-process. Every test gets its own ROS_DOMAIN_ID (`ros_domain_id`, tests/conftest.py)
and discovery stays on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
import rclpy
from snncontrol_ros.runtime import make_executor

from snncontrol.controllers import SHIPPED


@pytest.fixture(scope="session")
def blimp_artifact(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The shipped blimp PD+I SNN; the hand-built fallback only while it is not shipped."""
    shipped = SHIPPED.get("blimp")
    if shipped is not None and (shipped / "controller.json").is_file():
        return str(shipped)
    from snncontrol_ros.fallback import save_fallback_blimp

    return str(save_fallback_blimp(tmp_path_factory.mktemp("artifact") / "fallback_blimp"))


@pytest.fixture(scope="session")
def fallback_artifact(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The hand-built PD+I leaky-integrator network (snncontrol_ros.fallback): holds the blimp tightly."""
    from snncontrol_ros.fallback import save_fallback_blimp

    return str(save_fallback_blimp(tmp_path_factory.mktemp("artifact") / "fallback_pdi"))


@pytest.fixture
def context(ros_domain_id: int) -> Iterator[rclpy.Context]:
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=ros_domain_id)
    try:
        yield ctx
    finally:
        ctx.try_shutdown()


class Spinner:
    """Spins nodes of one context until a condition holds or a timeout passes."""

    def __init__(self, context: rclpy.Context) -> None:
        self.executor = make_executor("events", context)
        self.nodes: list = []

    def add(self, node):
        self.executor.add_node(node)
        self.nodes.append(node)
        return node

    def until(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            self.executor.spin_once(timeout_sec=0.01)
        return condition()

    def spin_for(self, seconds: float) -> None:
        self.until(lambda: False, seconds)

    def close(self) -> None:
        for node in self.nodes:
            self.executor.remove_node(node)
            node.destroy_node()
        self.executor.shutdown(timeout_sec=1.0)


@pytest.fixture
def spinner(context: rclpy.Context) -> Iterator[Spinner]:
    s = Spinner(context)
    try:
        yield s
    finally:
        s.close()
