"""MuJoCo simulation node: runs a `sim_envs` plant in real time or in lockstep with a controller.

Plants: blimp (`sim_envs/BlimpAltitude-v0`) and swimmer (`sim_envs/Swimmer-v0`), created and stepped exactly
as `snncontrol.evaluation.blimp_flight.fly_blimp` does, so the same seed and commands give the same flight.

Topics (blimp defaults; relative names, remap as usual):
  altitude (sensor_msgs/Range): the rangefinder reading, stamped with sim time, frame `frame_id`
  setpoint (std_msgs/Float64): the schedule's set-point, reliable + transient local, on change
  thrust_command (std_msgs/Float64MultiArray, subscribed): the command [u]
  sim/state (std_msgs/Float64MultiArray): ground truth [t, altitude, measured, set-point, command] (blimp) or
      [t, x, y, forward velocity] (swimmer)
  swimmer: joint_states (sensor_msgs/JointState), head_velocity (Float64MultiArray [vx, vy, yaw rate]),
      joint_commands (Float64MultiArray, subscribed)
  camera/image_raw (sensor_msgs/Image, rgb8): every `image_every_n` ticks when `publish_image`
  /clock (rosgraph_msgs/Clock): sim time, for nodes with use_sim_time
Both modes start once the graph is up: `lockstep_subscribers` subscribers on the sensor topic (the controller;
2: the recorder too), the message on `start_after_topic` where one is named (the recorder's ready_topic: it hears
every publisher), in lockstep also a command publisher, then `startup_delay_s` more; until then the plant does
not move and a warning says what is missing every WAIT_WARNING_S.
Modes: realtime (a steady wall timer at control rate x `realtime_factor`; the latest command is applied, the
safe command when none came for `command_timeout_s`) and lockstep (the plant steps when a command arrives for
the reading just published; after `lockstep_timeout_s` without one it steps with the held command, the safe
one once commands stopped for `command_timeout_s`). A command that echoes a reading's stamp (the controller
node's `echo_stamp`, set in launch/config) answers that reading only: a second answer, or a late one that lands
after the next reading, is held but steps nothing (without the echo, the first command after a reading steps
it). `log_file` (.npz) records the run at episode end (the per-step rows are kept only when a log is written: with
`log_file`, or `SimNode(keep_log=True)` for `log_arrays`; a long run without one holds no growing table).
Parameters are read at start (a later `ros2 param set` is refused); a safe command outside the plant's action
space, an image larger than the model's offscreen framebuffer, a log file that cannot be written or a parameter
it does not declare (a misspelt name; the closest declared one is named) stops the node at start, in one line.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Image, JointState, Range
from std_msgs.msg import Float64, Float64MultiArray, String

import sim_envs  # noqa: F401  (registers the environments)
from snncontrol import atomic
from snncontrol_ros import messages
from snncontrol_ros.runtime import check_declared, declare, fixed_at_start, run_node
from snncontrol_ros.safety import Throttle
from snncontrol_ros.sim_ranges import RANGES

PLANTS = {
    "blimp": ("sim_envs/BlimpAltitude-v0", "altitude", "thrust_command"),
    "swimmer": ("sim_envs/Swimmer-v0", "joint_states", "joint_commands"),
}
PARAMETERS: dict[str, tuple[object, str]] = {
    "plant": ("blimp", "blimp | swimmer"),
    "seed": (0, "episode seed (as env.reset(seed=...))"),
    "mode": ("lockstep", "realtime | lockstep"),
    "realtime_factor": (1.0, "realtime mode: sim seconds per wall second"),
    "episode_length_s": (210.0, "episode length (s of sim time)"),
    "buoyancy_bias": (math.nan, "blimp: pin the buoyancy bias (N, |bias| <= 0.1: full thrust is 0.099 N); NaN: "
                                "drawn from the seed"),
    "lockstep_timeout_s": (1.0, "lockstep: wall time to wait for a command before stepping without one"),
    "startup_delay_s": (0.5, "wait after the graph is up (see lockstep_subscribers) before the first reading (s)"),
    "lockstep_subscribers": (1, "start once the sensor topic has this many subscribers (2: + recorder); both modes"),
    "start_after_topic": ("", "also wait for a (latched) message here, e.g. the recorder's ready_topic; both modes"),
    "command_timeout_s": (0.5, "a command older than this (wall s) is replaced by the safe command"),
    "safe_command": ([0.0], "command held when commands stop (1 value: all actuators)"),
    "sensor_topic": ("", "sensor topic ('' = altitude for the blimp, joint_states for the swimmer)"),
    "setpoint_topic": ("setpoint", "blimp set-point topic"),
    "command_topic": ("", "command topic ('' = thrust_command / joint_commands)"),
    "state_topic": ("sim/state", "ground-truth topic"),
    "head_velocity_topic": ("head_velocity", "swimmer head velocity topic"),
    "image_topic": ("camera/image_raw", "camera topic"),
    "publish_image": (False, "render and publish camera images (MuJoCo offscreen, MUJOCO_GL=egl headless)"),
    "image_every_n": (10, "publish an image every n ticks"),
    "image_width": (96, "image width (px)"),
    "image_height": (96, "image height (px)"),
    "frame_id": ("rangefinder", "frame of the sensor messages"),
    "sensor_reliability": ("best_effort", "QoS of the sensor publishers: best_effort | reliable"),
    "publish_clock": (True, "publish /clock (sim time)"),
    "log_file": ("", "write the run to this .npz at episode end ('' = no log)"),
    "exit_on_done": (False, "stop the process at episode end"),
}
#: s between the warnings that it is still waiting to start (the first after as long)
WAIT_WARNING_S = 10.0
MAX_BUOYANCY_BIAS_N = 0.1  # |bias| the blimp plant takes: beyond full thrust (0.099 N) MuJoCo blows up
#: lockstep: before the controller's first answer, say so after this many offers of the first reading
SILENT_OFFERS = 5


class SimNode(Node):
    def __init__(self, node_name: str = "sim", keep_log: bool = False, **kwargs) -> None:
        """`keep_log`: keep the per-step rows for `log_arrays` without a `log_file` (an in-process graph reads
        them); without either, none are kept."""
        super().__init__(node_name, **kwargs)
        p: dict[str, Any] = {}
        for name, (default, text) in PARAMETERS.items():
            low, high = RANGES.get(name, (None, None))
            p[name] = declare(self, name, default, text, low=low, high=high)
        check_declared(self)  # a misspelt parameter: one line, not a run on the default
        if p["plant"] not in PLANTS:
            raise ValueError(f"plant must be one of {sorted(PLANTS)}, got {p['plant']!r}")
        if p["mode"] not in ("realtime", "lockstep"):
            raise ValueError(f"mode must be realtime or lockstep, got {p['mode']!r}")
        self.p = p
        self.plant = p["plant"]
        env_id, sensor, command = PLANTS[self.plant]
        kwargs_env: dict = {}
        if p["publish_image"]:
            kwargs_env.update(render_mode="rgb_array", width=p["image_width"], height=p["image_height"])
        if self.plant == "blimp":
            kwargs_env["episode_length_s"] = p["episode_length_s"]
            bias = p["buoyancy_bias"]
            if not (math.isnan(bias) or abs(bias) <= MAX_BUOYANCY_BIAS_N):
                raise ValueError(f"buoyancy_bias must be within +-{MAX_BUOYANCY_BIAS_N} N (or NaN: drawn from the "
                                 f"seed), got {bias}")
            if math.isfinite(bias):
                kwargs_env["buoyancy_bias_range"] = (bias, bias)
        else:
            kwargs_env["max_episode_steps"] = max(1, round(p["episode_length_s"] / 0.03))
        self.env = gym.make(env_id, **kwargs_env)
        self.core = self.env.unwrapped.core
        self.dt = self.core.control_dt
        n_act = self.env.action_space.shape[0]
        safe = np.asarray(p["safe_command"], np.float64)
        self.safe = np.full(n_act, safe[0]) if safe.size == 1 else safe
        if self.safe.shape != (n_act,):
            needs = "1 value" if n_act == 1 else f"1 or {n_act} values"
            raise ValueError(f"safe_command needs {needs}, got {safe.size}")
        space = self.env.action_space
        if not (np.isfinite(self.safe).all() and space.contains(self.safe.astype(space.dtype))):
            raise ValueError(f"safe_command {self.safe.tolist()} must be finite and within the plant's action "
                             f"range [{space.low.min():g}, {space.high.max():g}]")
        if p["log_file"]:
            atomic.writable_file(p["log_file"])  # (one line at start, not a log lost at episode end)
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)

        qos = messages.sensor_qos(p["sensor_reliability"])
        self.sensor_topic = p["sensor_topic"] or sensor
        self.command_topic = p["command_topic"] or command
        if self.plant == "blimp":
            self.sensor_pub = self.create_publisher(Range, self.sensor_topic, qos)
            self.setpoint_pub = self.create_publisher(Float64, p["setpoint_topic"], messages.setpoint_qos())
        else:
            self.sensor_pub = self.create_publisher(JointState, self.sensor_topic, qos)
            self.head_pub = self.create_publisher(Float64MultiArray, p["head_velocity_topic"], qos)
        self.state_pub = self.create_publisher(Float64MultiArray, p["state_topic"], 10)
        self.image_pub = self.create_publisher(Image, p["image_topic"], qos) if p["publish_image"] else None
        self.clock_pub = (
            self.create_publisher(ClockMsg, "/clock", QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE))
            if p["publish_clock"] else None
        )
        self.create_subscription(Float64MultiArray, self.command_topic, self._on_command, messages.command_qos(10))
        self._gate_open = not p["start_after_topic"]
        if p["start_after_topic"]:
            self.create_subscription(String, p["start_after_topic"], self._open_gate, messages.setpoint_qos())

        obs, info = self.env.reset(seed=p["seed"])
        if p["publish_image"]:
            self.env.render()  # a size beyond the model's offscreen framebuffer is refused now, not mid-run
        self.obs, self.info = obs, info
        self.k = 0
        self.keep_rows = keep_log or bool(p["log_file"])
        self.rows: list[tuple[float, ...]] = []  # one per step, while `keep_rows`
        self.command = self.safe.copy()
        self.command_time: float | None = None  # monotonic time of the latest command
        self.commands_received = 0
        self.timeouts = 0
        self.safe_holds = 0
        self.last_setpoint: float | None = None
        self.started = False
        self.waiting_since: float | None = None
        self.reading_ns = 0  # the stamp of the reading last published (ns of sim time)
        self.answered_first = False
        self.offers = 0  # of the first reading, before the controller answered
        self.stale_answers = 0  # lockstep: commands that echoed another reading than the one published
        self._discovered_at: float | None = None
        self._wait_throttle: Throttle | None = None  # the waiting-to-start warnings, from the first wait
        # (both modes poll until the graph is up; lockstep goes on polling for its timeouts, realtime then ticks)
        self._poll_timer = self.create_timer(0.005, self._on_poll, clock=self._steady)
        self.get_logger().info(f"{self.plant} plant, seed {p['seed']}, {p['mode']}, dt {self.dt:g} s")
        fixed_at_start(self)

    # --- publishing -----------------------------------------------------------------------------------------
    def _sim_time(self) -> float:
        return self.k * self.dt

    def _publish_reading(self) -> None:
        t = self._sim_time()
        sec, nsec = int(t), round((t - int(t)) * 1e9)
        if nsec >= 1_000_000_000:
            sec, nsec = sec + 1, nsec - 1_000_000_000
        if self.clock_pub is not None:
            clock = ClockMsg()
            clock.clock.sec, clock.clock.nanosec = sec, nsec
            self.clock_pub.publish(clock)
        obs, info = self.obs, self.info
        if self.plant == "blimp":
            setpoint = float(obs[1])
            if setpoint != self.last_setpoint:
                self.setpoint_pub.publish(Float64(data=setpoint))
                self.last_setpoint = setpoint
            state = [t, float(info["altitude"]), float(obs[0]), setpoint, float(self.command[0])]
            self.state_pub.publish(Float64MultiArray(data=state))
            msg = Range(radiation_type=Range.INFRARED, field_of_view=0.0349, min_range=0.0,
                        max_range=float(self.core.max_range), range=float(obs[0]))
        else:
            nj = self.core.n_joints
            self.head_pub.publish(Float64MultiArray(data=[float(v) for v in obs[2 * nj :]]))
            state = [t, float(info["x_position"]), float(info["y_position"]), float(info["forward_velocity"])]
            self.state_pub.publish(Float64MultiArray(data=state))
            msg = JointState(name=[f"joint_{i}" for i in range(nj)], position=[float(v) for v in obs[:nj]],
                             velocity=[float(v) for v in obs[nj : 2 * nj]])
        msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nsec
        self.reading_ns = sec * 1_000_000_000 + nsec
        msg.header.frame_id = self.p["frame_id"]
        if self.image_pub is not None and self.k % max(1, self.p["image_every_n"]) == 0:
            self._publish_image(msg.header)
        self.sensor_pub.publish(msg)
        self.waiting_since = time.monotonic()

    def _publish_image(self, header) -> None:
        frame = self.env.render()
        if frame is None:
            return
        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        image = Image(height=frame.shape[0], width=frame.shape[1], encoding="rgb8", is_bigendian=0,
                      step=frame.shape[1] * 3, data=frame.tobytes())
        image.header.stamp = header.stamp
        image.header.frame_id = "camera"
        self.image_pub.publish(image)

    # --- stepping -------------------------------------------------------------------------------------------
    def _held_command(self) -> np.ndarray:
        fresh = self.command_time is not None and time.monotonic() - self.command_time <= self.p["command_timeout_s"]
        if not fresh:
            self.safe_holds += 1
            return self.safe.copy()
        return self.command

    def _step(self, command: np.ndarray) -> None:
        if self.finished.is_set():
            return
        action = np.asarray(command, dtype=np.float32)  # as fly_blimp passes actions
        if self.keep_rows:
            self.rows.append(self._row(action))
        self.obs, _, terminated, truncated, self.info = self.env.step(action)
        self.k += 1
        if terminated or truncated:
            self._finish()
            return
        self._publish_reading()

    def _row(self, action: np.ndarray) -> tuple[float, ...]:
        """The log row of the step about to be taken with `action`: the state before it (see `log_arrays`)."""
        info, obs = self.info, self.obs
        if self.plant == "blimp":
            return (self._sim_time(), float(info["altitude"]), float(obs[0]), float(info["setpoint"]),
                    float(action[0]))
        return (self._sim_time(), float(info["x_position"]), float(info["y_position"]),
                float(info["forward_velocity"]))

    def _on_command(self, msg: Float64MultiArray) -> None:
        values = messages.command_values(msg)
        if values.shape != self.safe.shape or not (np.abs(values) <= np.finfo(np.float32).max).all():  # as applied
            shown = np.array2string(values, threshold=8, precision=4)
            self.get_logger().warning(f"ignoring command {shown} (needs {self.safe.size} finite values)",
                                      throttle_duration_sec=1.0)  # (at 1 kHz each bad command was a line)
            return
        echoed = messages.echoed_stamp(msg)
        with self._lock:
            self.command, self.command_time = values, time.monotonic()
            self.commands_received += 1
            if self.p["mode"] != "lockstep" or not self.started or self.waiting_since is None:
                return
            if echoed is not None and echoed != self.reading_ns:  # a second or a late answer: held, no step
                self.stale_answers += 1
                return
            self.answered_first = True
            self.waiting_since = None
            self._step(values)

    def _open_gate(self, msg: String) -> None:
        self._gate_open = True

    def _on_realtime_tick(self) -> None:
        with self._lock:
            self._step(self._held_command())

    def _on_poll(self) -> None:
        with self._lock:
            now = time.monotonic()
            if not self.started:
                if self._graph_up(now):
                    self._start()
            elif self.p["mode"] == "lockstep":
                self._lockstep_timeout(now)

    def _graph_up(self, now: float) -> bool:
        """Whether the plant may start: the start gate (see the module docstring) held for `startup_delay_s`
        (s, monotonic `now`); warns every WAIT_WARNING_S while it does not."""
        lockstep = self.p["mode"] == "lockstep"
        subscribers = self.sensor_pub.get_subscription_count()
        publishers = self.count_publishers(self.command_topic)
        ready = (subscribers >= self.p["lockstep_subscribers"] and (publishers > 0 or not lockstep)
                 and self._gate_open)
        if ready and self._discovered_at is None:
            self._discovered_at = now
        if not ready and self._wait_throttle is None:
            self._wait_throttle = Throttle(WAIT_WARNING_S, now)  # the first warning after as long
        elif not ready and self._wait_throttle.ready(now):  # (a count it never sees, or a gate topic nobody
            self.get_logger().warning(  # sends, waited silently; the text is built only when it is said)
                f"{self.p['mode']}: waiting to start for {subscribers} of {self.p['lockstep_subscribers']} sensor "
                f"subscribers"
                + (f", {publishers} of at least 1 command publishers on {self.command_topic}" if lockstep else "")
                + ("" if self._gate_open else f", a message on {self.p['start_after_topic']}"))
        return self._discovered_at is not None and now - self._discovered_at >= self.p["startup_delay_s"]

    def _start(self) -> None:
        """The first reading; in realtime mode the wall timer that steps the plant from now on."""
        self.started = True
        self._publish_reading()
        self.get_logger().info(f"started: first reading published on {self.sensor_topic}")
        if self.p["mode"] == "realtime":
            self._poll_timer.cancel()
            self.create_timer(self.dt / self.p["realtime_factor"], self._on_realtime_tick, clock=self._steady)

    def _lockstep_timeout(self, now: float) -> None:
        """Lockstep, started: no command for `lockstep_timeout_s` (s, monotonic `now`) steps with the held one;
        before the controller's first answer, the first reading is offered again instead."""
        if self.waiting_since is None or self.finished.is_set():
            return
        if now - self.waiting_since > self.p["lockstep_timeout_s"]:
            if not self.answered_first:
                self._publish_reading()  # the controller is not up yet: offer the first reading again
                self.offers += 1
                if self.offers % SILENT_OFFERS == 0:
                    self.get_logger().warning(
                        f"no command for the first reading after {self.offers} offers on {self.sensor_topic}: "
                        f"is the controller up, answering on {self.command_topic}, in event mode? (a timer "
                        "on sim time never ticks: sim time moves only when the plant steps)")
                return
            self.timeouts += 1
            self.waiting_since = None
            self._step(self._held_command())

    def _finish(self) -> None:
        self.get_logger().info(
            f"episode done: {self.k} steps, {self.commands_received} commands, {self.timeouts} lockstep timeouts, "
            f"{self.stale_answers} stale answers, {self.safe_holds} safe holds"
        )
        self.write_log()
        self.finished.set()

    def log_arrays(self) -> dict[str, np.ndarray]:
        """The run so far: per step (rows kept only while `keep_rows`; else empty) times (s of sim time) and the
        blimp's altitude, measured range and set-point (m) and command, or the swimmer's x, y (m) and forward
        velocity (m/s); and the counters (lockstep timeouts, safe holds, commands received, stale answers)."""
        table = np.asarray(self.rows, dtype=np.float64)
        if self.plant == "blimp":
            keys = ("times", "altitude", "measured", "setpoint", "command")
        else:
            keys = ("times", "x_position", "y_position", "forward_velocity")
        table = table.reshape(-1, len(keys))
        out = {key: table[:, i] for i, key in enumerate(keys)}
        out.update(timeouts=np.array(self.timeouts), safe_holds=np.array(self.safe_holds),
                   commands_received=np.array(self.commands_received), stale_answers=np.array(self.stale_answers))
        return out

    def write_log(self) -> None:
        if self.p["log_file"]:
            path = Path(self.p["log_file"])
            try:
                atomic.write_npz(path, self.log_arrays())
            except OSError as exc:
                self.get_logger().error(f"cannot write the log {path}: {exc}")

    @property
    def done(self) -> threading.Event | None:
        """What `run_node` watches: the episode end when `exit_on_done`, else nothing."""
        return self.finished if self.p["exit_on_done"] else None

    def before_shutdown(self) -> None:
        if not self.finished.is_set():
            self.write_log()

    def destroy_node(self) -> None:
        if hasattr(self, "env"):  # absent when the constructor refused the parameters
            self.env.close()
        super().destroy_node()


def main(argv: list[str] | None = None) -> int:
    return run_node(lambda context: SimNode(context=context), argv, "MuJoCo simulation node (sim_envs plants)")


if __name__ == "__main__":
    raise SystemExit(main())
