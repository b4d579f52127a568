"""Findings of the ROS package review, each shown by what it did: the parameter files were not found after a colcon
install; `-p` overrides were read as YAML (`--record 2024` refused, a path with ' #' cut short); a realtime sim
started before its recorder and controller were up; the recorder never heard a latched /setpoint published before
it joined; the in-process graph ran with parameters of its own instead of launch/config's; the sim kept a growing
log table that nothing read; the package did not depend on what its launch files start."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import rclpy
import yaml
from rclpy.parameter import Parameter
from rclpy.serialization import deserialize_message
from rosbags.highlevel import AnyReader
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import Range
from snncontrol_ros import messages, run_blimp_sim
from snncontrol_ros.graph import overrides, run_blimp_graph
from snncontrol_ros.launcher import config_file, node_command
from snncontrol_ros.recorder import RecorderNode
from snncontrol_ros.sim_node import SimNode
from std_msgs.msg import Float64, String

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "ros_ws" / "src" / "snncontrol_ros"


def test_the_parameter_files_are_found_in_a_colcon_install(tmp_path: Path) -> None:
    """colcon puts the module in install/snncontrol_ros/lib/python3.x/site-packages and the files under
    install/snncontrol_ros/share, found through AMENT_PREFIX_PATH: run_blimp_sim said 'blimp_sim.yaml not found'."""
    prefix = tmp_path / "install" / "snncontrol_ros"
    site = prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    shutil.copytree(PACKAGE / "snncontrol_ros", site / "snncontrol_ros",
                    ignore=shutil.ignore_patterns("__pycache__"))
    share = prefix / "share" / "snncontrol_ros" / "launch" / "config"
    shutil.copytree(REPO / "launch" / "config", share)
    index = prefix / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True)
    (index / "snncontrol_ros").touch()
    probe = ("import snncontrol_ros.launcher as launcher; print(launcher.__file__); "
             "print(launcher.config_file('blimp_sim.yaml'))")
    env = {**os.environ, "PYTHONPATH": str(site), "AMENT_PREFIX_PATH": str(prefix)}
    found = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    module, path = found.stdout.split()
    assert Path(module).is_relative_to(site)  # the installed copy, not the source tree's
    assert Path(path) == share / "blimp_sim.yaml"
    env.pop("AMENT_PREFIX_PATH")  # not in the index: one line naming where it looked
    missing = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    last = missing.stderr.strip().splitlines()[-1]
    assert missing.returncode == 1 and last.startswith("FileNotFoundError: blimp_sim.yaml not found in "), last


VALUES: dict[str, object] = {
    "year": "2024", "hash": "runs/run #2/sim_log.npz", "colon": "x: y", "quote": 'say "hi" \\ back', "word": "true",
    "empty": "", "text": "shipped:blimp", "int": 3, "float": 2.5, "small": 1e-5, "bool": True, "nan": math.nan,
    "inf": -math.inf, "floats": [0.0, 5.0], "strings": ["a #b", "7"],
}


def test_node_command_overrides_reach_the_node_as_given(ros_domain_id: int) -> None:
    """`-p key:=value` is YAML to rcl: `--record 2024` was the integer 2024 (refused: the recorder's output is a
    string), a log path with ' #' was cut at the '#' (the log went elsewhere, a good run was called failed), and a
    numpy scalar was written as its repr."""
    numpy = {"np_float": (np.float64(1.5), 1.5), "np_int": (np.int64(5), 5), "np_bool": (np.bool_(True), True)}
    cmd = node_command("recorder", {**VALUES, **{key: value for key, (value, _) in numpy.items()}})
    context = rclpy.Context()
    rclpy.init(args=cmd[cmd.index("--ros-args"):], context=context, domain_id=ros_domain_id)
    try:
        node = rclpy.create_node("probe", context=context, automatically_declare_parameters_from_overrides=True)
        try:
            for key, value in VALUES.items():
                held = node.get_parameter(key).value
                given, got = (value, list(held)) if isinstance(value, list) else ([value], [held])
                assert [type(v) for v in got] == [type(v) for v in given], key  # "2024" stays a string
                assert all(g == v or (math.isnan(v) and math.isnan(g)) for g, v in zip(got, given, strict=True)), key
            for key, (_, expected) in numpy.items():  # numpy scalars as their Python values (1.5 was 'np.float64(1.5)')
                held = node.get_parameter(key).value
                assert held == expected and type(held) is type(expected), key
        finally:
            node.destroy_node()
    finally:
        context.try_shutdown()


def float64_data(raw: bytes) -> float:
    """The data of a serialized std_msgs/Float64."""
    return deserialize_message(bytes(raw), Float64).data


def test_a_realtime_sim_waits_for_its_subscribers_and_the_ready_topic(context, spinner) -> None:
    """The realtime sim stepped from its constructor on, whatever lockstep_subscribers and start_after_topic (which
    the launcher sets for a recorded run) said: a recorded realtime run's bag began steps late, without /setpoint."""
    sim = spinner.add(SimNode(context=context, parameter_overrides=overrides({
        "mode": "realtime", "realtime_factor": 10.0, "lockstep_subscribers": 2, "start_after_topic": "/ready",
        "startup_delay_s": 0.0})))
    probe = spinner.add(rclpy.create_node("probe", context=context))
    readings: list[Range] = []
    setpoints: list[Float64] = []
    probe.create_subscription(Range, "altitude", readings.append, messages.sensor_qos())
    spinner.spin_for(1.0)  # one subscriber of two, no ready message: 100 steps at 10x, had it started
    assert sim.k == 0 and not sim.started and not readings
    probe.create_subscription(Float64, "setpoint", setpoints.append, messages.setpoint_qos())
    probe.create_subscription(Range, "altitude", lambda msg: None, messages.sensor_qos())  # (as a recorder)
    spinner.spin_for(0.5)
    assert sim.k == 0 and not sim.started  # two subscribers now, still no ready message
    ready = probe.create_publisher(String, "/ready", messages.setpoint_qos())
    ready.publish(String(data="ready"))
    assert spinner.until(lambda: len(readings) >= 5, 10.0)
    assert messages.stamp_ns(readings[0]) in (None, 0)  # the first reading is the episode's first
    assert setpoints and setpoints[0].data == pytest.approx(float(sim.obs[1]))


def test_a_recorded_realtime_run_starts_its_bag_with_the_episode(ros_domain_id: int, tmp_path: Path) -> None:
    """`snncontrol-ros-sim-blimp --mode realtime --record`: the bag started 27 steps late without /setpoint and 36 of
    80 steps ran on the safe command (the sim started before the recorder and the controller were up)."""
    bag = tmp_path / "bag"
    status = run_blimp_sim.main(["--mode", "realtime", "--duration", "3", "--record", str(bag), "--out",
                                 str(tmp_path / "run"), "--domain-id", str(ros_domain_id), "--timeout", "120"])
    assert status == 0
    with np.load(tmp_path / "run" / "sim_log.npz") as log:
        assert len(log["times"]) == 30 and int(log["commands_received"]) > 0
    with AnyReader([bag]) as reader:
        counts = {c.topic: c.msgcount for c in reader.connections}
        assert counts.get("/setpoint") == 1, counts
        altitude = [c for c in reader.connections if c.topic == "/altitude"]
        first = next(reader.messages(connections=altitude))
        stamp = reader.deserialize(first[2], first[0].msgtype).header.stamp
        assert (stamp.sec, stamp.nanosec) == (0, 0)  # the episode's first reading is in the bag


def test_the_recorder_records_a_latched_setpoint_published_before_it_joined(context, spinner, tmp_path: Path) -> None:
    """Its subscriptions were all volatile: the sim's latched /setpoint, published once before the recorder was up,
    never reached the bag; and the bag's connections held no offered QoS profiles (what `ros2 bag play` uses)."""
    bag = tmp_path / "bag"
    source = spinner.add(rclpy.create_node("setpoint_source", context=context))
    source.create_publisher(Float64, "/setpoint", messages.setpoint_qos()).publish(Float64(data=1.0))
    spinner.spin_for(0.5)
    recorder = spinner.add(RecorderNode(context=context, parameter_overrides=[
        Parameter("output", value=str(bag)), Parameter("topics", value=["/setpoint"]),
        Parameter("types", value=["std_msgs/msg/Float64"]), Parameter("reliability", value="reliable")]))
    assert spinner.until(lambda: recorder.bag.counts["/setpoint"] == 1, 10.0)
    recorder.before_shutdown()
    assert spinner.until(lambda: not recorder.draining(), 10.0)
    assert recorder.bag.counts == {"/setpoint": 1}
    with Reader(bag) as reader:
        (connection,) = reader.connections
        assert [float64_data(raw) for _, _, raw in reader.messages()] == [1.0]
        offered = connection.ext.offered_qos_profiles
        assert [(q.reliability.name, q.durability.name) for q in offered] == [("RELIABLE", "TRANSIENT_LOCAL")]


def test_the_in_process_graph_runs_with_the_launch_config_parameters(ros_domain_id: int, blimp_artifact: str) -> None:
    """graph.py built its own parameters: echo_stamp off, no observation bounds, lockstep_timeout_s 1.0 and a
    startup delay of its own, where launch/config/blimp_sim.yaml says otherwise."""
    config = yaml.safe_load(config_file("blimp_sim.yaml").read_text())
    run = run_blimp_graph(ros_domain_id, blimp_artifact, seed=3, episode_length_s=1.0)
    assert len(run.log["times"]) == 10
    set_here = {"sim": {"seed": 3, "episode_length_s": 1.0, "mode": "lockstep"},
                "snn_controller": {"artifact": blimp_artifact, "autostart": False}}
    for node, section in config.items():
        held = run.parameters[node]
        expected = {**section["ros__parameters"], **set_here[node]}
        for key, value in expected.items():
            assert (list(held[key]) if isinstance(value, list) else held[key]) == value, f"{node}.{key}"
    assert run.parameters["snn_controller"]["echo_stamp"] is True
    assert run.parameters["sim"]["lockstep_timeout_s"] == 2.0


def test_the_sim_keeps_no_log_table_without_a_log(context, spinner, tmp_path: Path) -> None:
    """Every step appended a row (0.5 GB a day in a long realtime run) that only a log file or graph.py reads."""
    plain = spinner.add(SimNode(context=context, parameter_overrides=overrides({
        "mode": "realtime", "realtime_factor": 50.0, "startup_delay_s": 0.0})))
    logged = spinner.add(SimNode(node_name="logged", context=context, parameter_overrides=overrides({
        "mode": "realtime", "realtime_factor": 50.0, "startup_delay_s": 0.0, "sensor_topic": "logged/altitude",
        "log_file": str(tmp_path / "log.npz"), "publish_clock": False})))
    probe = spinner.add(rclpy.create_node("probe", context=context))
    for topic in ("altitude", "logged/altitude"):
        probe.create_subscription(Range, topic, lambda msg: None, messages.sensor_qos())
    assert spinner.until(lambda: plain.k >= 50 and logged.k >= 50, 20.0)
    assert plain.rows == [] and len(plain.log_arrays()["times"]) == 0
    assert len(logged.rows) == logged.k


def _exec_depends() -> set[str]:
    return {e.text for e in ET.parse(PACKAGE / "package.xml").getroot().findall("exec_depend")}


def test_the_package_depends_on_what_its_launch_files_start() -> None:
    depends = _exec_depends()
    assert {"launch_ros", "launch_xml", "ros2bag", "v4l2_camera", "ament_index_python"} <= depends
    for path in sorted((REPO / "launch").glob("*.launch.xml")):
        root = ET.parse(path).getroot()
        for node in root.iter("node"):
            assert node.get("pkg") == "snncontrol_ros" or node.get("pkg") in depends, (path.name, node.get("pkg"))
        if any("ros2 bag" in (e.get("cmd") or "") for e in root.iter("executable")):
            assert "ros2bag" in depends, path.name


def test_place_recognition_without_a_camera_needs_a_bag() -> None:
    """use_camera:=false without bag:= ran `ros2 bag play --loop` with no bag. Now that case logs one line and shuts
    the launch down, and the bag is played only when one is named. This test reads the XML (no `launch` wheel
    here); the conditions use launch's `$(and)`, `$(equals)` and `$(not-equals)` substitutions (since Iron; the
    package targets Kilted), and were evaluated once with ros2/launch's own source: `x$(var bag)` equals `x` for
    an empty bag only."""
    root = ET.parse(REPO / "launch" / "place_recognition.launch.xml").getroot()
    refusals = [g for g in root.findall("group") if g.find("shutdown") is not None]
    assert len(refusals) == 1
    condition = refusals[0].get("if")
    assert condition == "$(and $(not $(var use_camera)) $(equals x$(var bag) x))"
    assert "bag:=PATH" in refusals[0].find("log").get("message")
    (play,) = [e for e in root.findall("executable") if "ros2 bag play" in e.get("cmd")]
    assert play.get("if") == "$(and $(not $(var use_camera)) $(not-equals x$(var bag) x))"
