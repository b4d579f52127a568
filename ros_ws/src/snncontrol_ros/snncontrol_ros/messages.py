"""Standard message types <-> numpy, and the QoS profiles the nodes use on purpose.

Inputs (parameter `input_types`, one per input topic) become observation vectors, concatenated in order:
- range: sensor_msgs/Range -> [range] (m). A reading outside [min_range, max_range] (when max_range >
  min_range), or +-inf / NaN (REP 117: too close / no return / error), is reported as invalid.
- joint_state: sensor_msgs/JointState -> [positions..., velocities...] (rad, rad/s), in `joint_names` order
  when given.
- imu: sensor_msgs/Imu -> [angular velocity x y z (rad/s), linear acceleration x y z (m/s^2)].
- float64: std_msgs/Float64 -> [data].
- float64_multi_array: std_msgs/Float64MultiArray -> data.
Outputs (parameter `output_type`):
- float64_multi_array: std_msgs/Float64MultiArray, one value per joint, what ros2_control's
  forward_command_controller subscribes to on `/<controller>/commands`;
- twist: geometry_msgs/Twist, the command values written to `twist_fields` (e.g. ["linear.z"]).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from geometry_msgs.msg import Twist
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Imu, JointState, Range
from std_msgs.msg import Float64, Float64MultiArray, MultiArrayDimension

INPUT_TYPES: dict[str, type] = {
    "range": Range,
    "joint_state": JointState,
    "imu": Imu,
    "float64": Float64,
    "float64_multi_array": Float64MultiArray,
}
OUTPUT_TYPES: dict[str, type] = {"float64_multi_array": Float64MultiArray, "twist": Twist}
TWIST_FIELDS = ("linear.x", "linear.y", "linear.z", "angular.x", "angular.y", "angular.z")
STAMP_LABEL = "stamp_ns="


def sensor_qos(reliability: str = "best_effort", depth: int = 1) -> QoSProfile:
    """Sensor streams: latest value wins. best_effort (default, as qos_profile_sensor_data) or reliable."""
    policy = {"best_effort": ReliabilityPolicy.BEST_EFFORT, "reliable": ReliabilityPolicy.RELIABLE}.get(reliability)
    if policy is None:
        raise ValueError(f"reliability must be 'best_effort' or 'reliable', got {reliability!r}")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=policy,
                      durability=DurabilityPolicy.VOLATILE)


def command_qos(depth: int = 1) -> QoSProfile:
    """Commands: reliable, keep last `depth` (1..10): a late command is useless, a lost one is not acceptable."""
    if not 1 <= depth <= 10:
        raise ValueError(f"command depth must be within 1..10, got {depth}")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)


def setpoint_qos() -> QoSProfile:
    """Set-points: reliable and latched (transient local, keep last 1): a late joiner gets the current one."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.TRANSIENT_LOCAL)


def to_vector(kind: str, msg: Any, joint_names: Sequence[str] = ()) -> tuple[np.ndarray, str]:
    """(values, problem) of one input message; problem is "" when the message itself is fine."""
    if kind == "range":
        value = float(msg.range)
        problem = ""
        if not np.isfinite(value):
            problem = f"range reading {value} (no valid return)"
        elif msg.max_range > msg.min_range and not msg.min_range <= value <= msg.max_range:
            problem = f"range reading {value:.4g} m outside [{msg.min_range:.4g}, {msg.max_range:.4g}] m"
        return np.array([value]), problem
    if kind == "joint_state":
        pos, vel = np.asarray(msg.position, np.float64), np.asarray(msg.velocity, np.float64)
        if joint_names:
            index = {name: i for i, name in enumerate(msg.name)}
            missing = [n for n in joint_names if n not in index]
            if missing:
                return np.zeros(0), f"joint_state lacks joint(s) {missing}"
            order = [index[n] for n in joint_names]
            pos = pos[order] if len(pos) == len(msg.name) else pos
            vel = vel[order] if len(vel) == len(msg.name) else vel
        if len(vel) != len(pos):
            return np.concatenate([pos, vel]), f"joint_state has {len(pos)} positions but {len(vel)} velocities"
        return np.concatenate([pos, vel]), ""
    if kind == "imu":
        w, a = msg.angular_velocity, msg.linear_acceleration
        return np.array([w.x, w.y, w.z, a.x, a.y, a.z], dtype=np.float64), ""
    if kind == "float64":
        return np.array([float(msg.data)]), ""
    if kind == "float64_multi_array":
        return np.asarray(msg.data, dtype=np.float64), ""
    raise ValueError(f"unknown input type {kind!r} (known: {', '.join(INPUT_TYPES)})")


def stamp_ns(msg: Any) -> int | None:
    header = getattr(msg, "header", None)
    if header is None:
        return None
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def make_command(kind: str, values: np.ndarray, twist_fields: Sequence[str] = (), echo_stamp: int | None = None):
    """The output message for command `values`. `echo_stamp` (ns) goes into the Float64MultiArray layout as a
    dimension label "stamp_ns=<ns>" (a latency probe; consumers such as forward_command_controller ignore it)."""
    if kind == "float64_multi_array":
        msg = Float64MultiArray(data=[float(v) for v in values])
        if echo_stamp is not None:
            msg.layout.dim = [MultiArrayDimension(label=f"{STAMP_LABEL}{echo_stamp}", size=len(values), stride=1)]
        return msg
    if kind == "twist":
        msg = Twist()
        fields = twist_fields or TWIST_FIELDS[: len(values)]
        for name, value in zip(fields, values, strict=True):
            part, axis = name.split(".")
            setattr(getattr(msg, part), axis, float(value))
        return msg
    raise ValueError(f"unknown output type {kind!r} (known: {', '.join(OUTPUT_TYPES)})")


def command_values(msg: Any) -> np.ndarray:
    return np.asarray(msg.data, dtype=np.float64)


def echoed_stamp(msg: Float64MultiArray) -> int | None:
    for dim in msg.layout.dim:
        if dim.label.startswith(STAMP_LABEL):
            return int(dim.label[len(STAMP_LABEL) :])
    return None


def check_twist_fields(fields: Sequence[str], n: int) -> None:
    if fields and (len(fields) != n or any(f not in TWIST_FIELDS for f in fields)):
        raise ValueError(f"twist_fields must name {n} of {TWIST_FIELDS}, got {list(fields)}")
    if not fields and n > len(TWIST_FIELDS):
        raise ValueError(f"a twist holds at most 6 values; the controller has {n} outputs")
