"""Standard message types <-> numpy, and the QoS profiles the nodes use on purpose.

Inputs (parameter `input_types`, one per input topic) become observation vectors, concatenated in order:
- range: sensor_msgs/Range -> [range] (m). A reading without a valid value is a lost sample, NaN: +-inf or NaN
  (REP 117: too close / no return / error), or at/over max_range (where sensors such as the TFmini-S report a
  lost return). A finite reading below min_range (when max_range > min_range) is reported as a problem.
- joint_state: sensor_msgs/JointState -> [positions..., velocities...] (rad, rad/s), in `joint_names` order
  when given (else in the order of the names of the input's first named message: a driver that lists its joints
  in another order, or a second publisher on the topic, is read by name, not by place). An empty velocity array
  (valid: a position-only state) gives lost samples (NaN) for the velocities.
- imu: sensor_msgs/Imu -> [angular velocity x y z (rad/s), linear acceleration x y z (m/s^2)]; a field whose
  covariance starts with -1 (the message's "not provided") gives lost samples (NaN).
- float64: std_msgs/Float64 -> [data].
- float64_multi_array: std_msgs/Float64MultiArray -> data.
A non-finite value of any input is a lost sample too (the controller node holds it, see `controller_node`).
Outputs (parameter `output_type`):
- float64_multi_array: std_msgs/Float64MultiArray, one value per joint, what ros2_control's
  forward_command_controller subscribes to on `/<controller>/commands`;
- twist: geometry_msgs/Twist, the command values written to `twist_fields` (e.g. ["linear.z"]).
"""

from __future__ import annotations

import math
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


def sensor_qos(reliability: str = "best_effort", depth: int = 1, name: str = "sensor_reliability") -> QoSProfile:
    """Sensor streams: latest value wins. best_effort (default, as qos_profile_sensor_data) or reliable; `name`: the
    parameter that gave `reliability`, for the error."""
    policy = {"best_effort": ReliabilityPolicy.BEST_EFFORT, "reliable": ReliabilityPolicy.RELIABLE}.get(reliability)
    if policy is None:
        raise ValueError(f"{name} must be 'best_effort' or 'reliable', got {reliability!r}")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=policy,
                      durability=DurabilityPolicy.VOLATILE)


def command_qos(depth: int = 1) -> QoSProfile:
    """Commands: reliable, keep last `depth` (1..10): a late command is useless, a lost one is not acceptable."""
    if not 1 <= depth <= 10:
        raise ValueError(f"command depth must be within 1..10, got {depth}")
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=ReliabilityPolicy.RELIABLE,
                      durability=DurabilityPolicy.VOLATILE)


def setpoint_qos(durability: DurabilityPolicy = DurabilityPolicy.TRANSIENT_LOCAL) -> QoSProfile:
    """Set-points: reliable, keep last 1; latched (transient local, a late joiner gets the current one) by
    default. A subscriber takes both: volatile, which any reliable publisher meets, and latched, for the current
    value of a latched publisher (`controller_node`)."""
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE,
                      durability=durability)


def describe_qos(qos: QoSProfile) -> str:
    """A QoS profile in one phrase, e.g. "reliable, volatile, keep last 1"."""
    history = f"keep last {qos.depth}" if qos.history == HistoryPolicy.KEEP_LAST else "keep all"
    return f"{qos.reliability.name.lower()}, {qos.durability.name.lower()}, {history}"


def incompatible_qos_warning(topic: str, requested: QoSProfile, offered: Sequence[QoSProfile], policy: str) -> str:
    """The one-line warning for a publisher on `topic` whose QoS cannot meet the subscription's: the topic, both
    profiles and the fix."""
    offers = "; ".join(sorted({describe_qos(q) for q in offered})) or "unknown"
    return (
        f"{topic}: a publisher's QoS is incompatible ({policy.lower()}), so its messages never arrive: the node "
        f"subscribes {describe_qos(requested)}, the publisher offers {offers}. Fix: publish with at least the "
        f"subscription's reliability and durability (e.g. reliable), or set the subscription's "
        f"(sensor_reliability: best_effort for sensors)"
    )


def to_vector(kind: str, msg: Any, joint_names: Sequence[str] = ()) -> tuple[np.ndarray, str]:
    """(values, problem) of one input message; problem is "" when the message itself is fine."""
    if kind == "range":
        value = float(msg.range)
        ranged = msg.max_range > msg.min_range
        if not math.isfinite(value) or (ranged and value >= msg.max_range):
            return np.array([math.nan]), ""  # a lost sample
        if ranged and value < msg.min_range:
            return np.array([value]), f"range reading {value:.4g} m below min_range {msg.min_range:.4g} m"
        return np.array([value]), ""
    if kind == "joint_state":
        pos, vel = np.asarray(msg.position, np.float64), np.asarray(msg.velocity, np.float64)
        if len(vel) == 0 < len(pos):  # a position-only state: its velocities are not measured
            vel = np.full(len(pos), math.nan)
        if joint_names:
            index = {name: i for i, name in enumerate(msg.name)}
            missing = [n for n in joint_names if n not in index]
            if missing:
                return np.zeros(0), f"joint_state lacks joint(s) {missing}"
            if len(pos) != len(msg.name) or len(vel) != len(msg.name):  # no way to tell which value is whose
                return np.concatenate([pos, vel]), (f"joint_state has {len(msg.name)} names but {len(pos)} "
                                                    f"positions and {len(vel)} velocities")
            order = [index[n] for n in joint_names]
            pos, vel = pos[order], vel[order]
        if len(vel) != len(pos):
            return np.concatenate([pos, vel]), f"joint_state has {len(pos)} positions but {len(vel)} velocities"
        return np.concatenate([pos, vel]), ""
    if kind == "imu":
        w, a = msg.angular_velocity, msg.linear_acceleration
        values = np.array([w.x, w.y, w.z, a.x, a.y, a.z], dtype=np.float64)
        values[:3] = math.nan if msg.angular_velocity_covariance[0] == -1 else values[:3]
        values[3:] = math.nan if msg.linear_acceleration_covariance[0] == -1 else values[3:]
        return values, ""
    if kind == "float64":
        return np.array([float(msg.data)]), ""
    if kind == "float64_multi_array":
        return np.asarray(msg.data, dtype=np.float64), ""
    raise ValueError(f"unknown input type {kind!r} (known: {', '.join(INPUT_TYPES)})")


def stamp_ns(msg: Any) -> int | None:
    """The header stamp (ns); None for a message without a header or with a zero stamp (a driver that does not
    stamp its messages: each of them is a new reading)."""
    header = getattr(msg, "header", None)
    if header is None:
        return None
    stamp = int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)
    return stamp or None


class CommandMessage:
    """One reusable output message of `kind` (see `OUTPUT_TYPES`): `fill(values, echo_stamp)` writes a command
    into it and returns it. rclpy serializes a message when it is published, so a node can publish the same
    object every tick instead of building a new one (a new Float64MultiArray with its layout costs several
    microseconds). `echo_stamp` (ns) goes into the Float64MultiArray layout as a dimension labelled
    "stamp_ns=<ns>" (a latency probe; consumers such as forward_command_controller ignore it)."""

    def __init__(self, kind: str, twist_fields: Sequence[str] = ()) -> None:
        if kind not in OUTPUT_TYPES:
            raise ValueError(f"unknown output type {kind!r} (known: {', '.join(OUTPUT_TYPES)})")
        self.kind = kind
        self.msg = OUTPUT_TYPES[kind]()
        self._twist = [name.split(".") for name in (twist_fields or TWIST_FIELDS)]
        self._stamp_dim = [MultiArrayDimension(stride=1)]

    def fill(self, values: np.ndarray, echo_stamp: int | None = None):
        values = np.asarray(values, dtype=np.float64)
        msg = self.msg
        if self.kind == "twist":
            for (part, axis), value in zip(self._twist[: len(values)], values.tolist(), strict=True):
                setattr(getattr(msg, part), axis, value)
            return msg
        msg.data = values.tolist()
        if echo_stamp is None:
            msg.layout.dim = []
        else:
            dim = self._stamp_dim[0]
            dim.label, dim.size = f"{STAMP_LABEL}{echo_stamp}", len(values)
            msg.layout.dim = self._stamp_dim
        return msg


def command_values(msg: Any) -> np.ndarray:
    return np.asarray(msg.data, dtype=np.float64)


def echoed_stamp(msg: Float64MultiArray) -> int | None:
    """The reading's stamp (ns) a command echoes in its layout, None without one or where the label does not hold
    an integer (a malformed label from another publisher raised in the sim's callback and ended the node)."""
    for dim in msg.layout.dim:
        if dim.label.startswith(STAMP_LABEL):
            try:
                return int(dim.label[len(STAMP_LABEL) :])
            except ValueError:
                return None
    return None


def check_twist_fields(fields: Sequence[str], n: int) -> None:
    if fields and (len(fields) != n or any(f not in TWIST_FIELDS for f in fields)):
        raise ValueError(f"twist_fields must name {n} of {TWIST_FIELDS}, got {list(fields)}")
    if not fields and n > len(TWIST_FIELDS):
        raise ValueError(f"a twist holds at most 6 values; the controller has {n} outputs")
