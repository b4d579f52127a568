"""The launch files, checked without `ros2 launch`: every launch/*.launch.xml parses, each snncontrol_ros node
names an installed entry point, each parameter file only sets parameters the node declares (each node is
started with it, in-process, and must hold every value), and the ament package metadata is in order."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from importlib.metadata import distribution
from pathlib import Path

import pytest
import rclpy
import yaml
from snncontrol_ros.controller_node import ControllerNode
from snncontrol_ros.place_recognition_node import PlaceRecognitionNode
from snncontrol_ros.runtime import options_parser
from snncontrol_ros.sim_node import SimNode

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / "launch"
FILES = sorted(LAUNCH.glob("*.launch.xml"))
EXTERNAL = {"v4l2_camera"}  # nodes of other packages the launch files start on a robot


class StubMatcher:
    def query(self, images):
        return [0] * len(images), [1.0] * len(images)


NODES = {
    "controller_node": ControllerNode,
    "sim_node": SimNode,
    "place_recognition_node": lambda **kw: PlaceRecognitionNode(matcher=StubMatcher(), **kw),
}


def package_dir() -> Path:
    return REPO / "ros_ws" / "src" / "snncontrol_ros"


def entry_points() -> set[str]:
    return {ep.name for ep in distribution("snncontrol_ros").entry_points if ep.group == "console_scripts"}


def resolve(text: str) -> str:
    return text.replace("$(find-pkg-share snncontrol_ros)", str(package_dir()))


def nodes_of(path: Path) -> list[ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "launch"
    return root.findall("node")


def test_there_are_the_four_launch_files():
    assert {f.name for f in FILES} == {"blimp_sim.launch.xml", "blimp_robot.launch.xml", "swimmer_sim.launch.xml",
                                       "place_recognition.launch.xml"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_node_is_an_entry_point_and_its_parameter_files_exist(path: Path):
    scripts = entry_points()
    for node in nodes_of(path):
        if node.get("pkg") == "snncontrol_ros":
            assert node.get("exec") in scripts, f"{path.name}: no entry point {node.get('exec')}"
            assert node.get("exec") in NODES
            for param in node.findall("param"):
                if param.get("from"):
                    assert Path(resolve(param.get("from"))).is_file()
        else:
            assert node.get("pkg") in EXTERNAL


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_node_arguments_are_options_the_node_process_takes(path: Path):
    """A node's `args` (with each argument at its default) parse as `run_node` parses them."""
    defaults = {arg.get("name"): arg.get("default", "") for arg in ET.parse(path).getroot().findall("arg")}
    for node in nodes_of(path):
        if node.get("pkg") == "snncontrol_ros" and node.get("args"):
            text = re.sub(r"\$\(var ([\w-]+)\)", lambda m: defaults[m.group(1)], node.get("args"))
            options = options_parser().parse_args(text.split())  # SystemExit (a test failure) on a bad option
            if path.name == "blimp_robot.launch.xml":  # on the robot: real-time scheduling by default
                assert options.realtime_priority == 50 and options.cpu_affinity == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_substitution_names_a_declared_argument(path: Path):
    root = ET.parse(path).getroot()
    declared = {arg.get("name") for arg in root.findall("arg")}
    used = set(re.findall(r"\$\(var ([\w-]+)\)", path.read_text()))
    assert used <= declared, f"{path.name} uses undeclared argument(s) {sorted(used - declared)}"
    assert all(arg.get("description") for arg in root.findall("arg")), f"{path.name}: an argument lacks a description"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parameter_files_set_only_declared_parameters(path: Path, ros_domain_id: int):
    for node_el in nodes_of(path):
        if node_el.get("pkg") != "snncontrol_ros":
            continue
        name = node_el.get("name")
        inline = [p.get("name") for p in node_el.findall("param") if p.get("name")]
        for param in [p for p in node_el.findall("param") if p.get("from")] or [None]:
            params_file = Path(resolve(param.get("from"))) if param is not None else None
            expected = {}
            if params_file is not None:
                document = yaml.safe_load(params_file.read_text())
                assert name in document, f"{params_file.name} has no section for node {name!r}"
                expected = document[name]["ros__parameters"]
            context = rclpy.Context()
            args = ["--ros-args", "--params-file", str(params_file)] if params_file else []
            rclpy.init(args=args, context=context, domain_id=ros_domain_id)
            try:
                node = NODES[node_el.get("exec")](context=context, node_name=name)
                try:
                    for key, value in expected.items():
                        assert node.has_parameter(key), f"{params_file.name}: {name} does not declare {key!r}"
                        actual = node.get_parameter(key).value
                        if isinstance(value, float) and math.isnan(value):
                            assert math.isnan(actual)
                        else:
                            assert actual == value or list(actual) == value, f"{name}.{key}"
                    for key in inline:
                        assert node.has_parameter(key), f"{path.name}: {name} does not declare {key!r}"
                finally:
                    node.destroy_node()
            finally:
                context.try_shutdown()


def test_ament_python_package_metadata():
    root = package_dir()
    package = ET.parse(root / "package.xml").getroot()
    assert package.get("format") == "3" and package.findtext("name") == "snncontrol_ros"
    assert package.find("export").findtext("build_type") == "ament_python"
    assert (root / "resource" / "snncontrol_ros").is_file()
    assert "install_scripts=$base/lib/snncontrol_ros" in (root / "setup.cfg").read_text()
    assert (root / "launch" / "blimp_sim.launch.xml").is_file()  # share/snncontrol_ros/launch via data_files
