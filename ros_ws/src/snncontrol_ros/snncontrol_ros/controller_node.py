"""The SNN controller node: a managed (lifecycle) node that runs any controller artifact.

Lifecycle: configure loads and validates the artifact and the parameters (a corrupt artifact or inconsistent
parameters make configure return FAILURE with the one-line reason logged and on /diagnostics at ERROR; the node
stays alive and unconfigured, except after a failed autostart: then it says so in one ERROR line, the reason, and
exits with status 1 `AUTOSTART_FAILED_EXIT_S` later (the time /diagnostics subscribers need to hear the ERROR)),
and creates the
subscriptions and the command publisher; activate resets the SNN and starts control; deactivate sends the safe
command and stops control; cleanup releases everything; shutdown sends the safe command if it was controlling.
`autostart:=true` configures and activates at start. A parameter the node does not declare (a misspelt name)
stops it at start with one line naming the closest declared one.

Topics (relative names, remap as usual):
  <input_topics[i]> (input_types[i]): sensors, best effort keep-last-1 by default (`sensor_reliability`)
  <setpoint_topic> (std_msgs/Float64): set-point, reliable, from volatile and transient local publishers alike
      (a latched value is requested too); appended to the observation
  <output_topic> (output_type): the command, reliable keep-last-`command_qos_depth`
  /diagnostics (diagnostic_msgs/DiagnosticArray): see snncontrol_ros.diagnostics.DIAGNOSTIC_KEYS, from start on
A publisher whose QoS cannot meet a subscription's is reported once per topic: the topic, both profiles, the fix.
Control modes: timer (tick at control_rate_hz: on the steady clock, which no setting of the system clock moves;
on sim time with use_sim_time), event (tick on each message of input 0; a watchdog, on the same clock, sends the
safe command when it stops, within 1.1 input_timeout_s, or 1 ms after it), adaptive (see snncontrol_ros.adaptive;
base tick from `adaptive_base`). Each timer or event tick is one SNN step of the artifact's dt: a timer rate or
a message rate off 1/dt runs the network's dynamics that much faster or slower (a warning at configure for a
control_rate_hz more than 1 % off; WARN on /diagnostics for either beyond `diagnostics.RATE_TOLERANCE`, event
ticks counted per second of the node clock, sim time under use_sim_time). Every parameter,
use_sim_time too, is read at configure: a change while configured is refused with the reason (clean up, set,
configure again). /diagnostics says ERROR when an active node has not
ticked for a while (a stopped /clock).
The observation (inputs in order, then the set-point) reaches the network through the artifact's observation
adapter, or through the one the `observation_adapter.*` parameters describe (nested in a parameter file).

Bad input: an input message of the wrong size (where the inputs and the adapter fix it), a range below
min_range, a value outside [observation_min, observation_max] (empty: none, but the set-point of a
setpoint_error adapter with a `valid` range is held to that range by default) gives the safe command at once.
A lost sample (NaN, +-inf, a Range at/over max_range, a value outside the adapter's `valid` range) is missing
data: with `missing_samples` hold (default) the network's sample hold carries the loop until the input has
had no valid sample for `input_timeout_s`, then the safe command; with safe, the safe command at once.
A stamped reading no newer than its input's latest (re-sent, or out of order by up to `input_timeout_s`) is no
new sample: its input's age runs on (stamps that go back farther are a source that restarted: taken after
RESTART_READINGS in a row on the new time base over input_timeout_s; a second publisher's old stamps interleaved
with the live ones never are). An input of
free size (neither its type nor the adapter fixes it) keeps the size it had at the first good tick. Where the node
clock jumps back, the inputs received before are dropped (the safe command until fresh ones). A network output
that is not finite (its state overflowed) is a fault: the safe command, ERROR in /diagnostics, and the network
reset to rest (snncontrol_ros.control_core).
"""

from __future__ import annotations

import array
import itertools
import math
import threading
import time

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.event_handler import SubscriptionEventCallbacks
from rclpy.exceptions import NameValidationException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile
from std_msgs.msg import Float64

from snncontrol.adapters import IOAdapters, ObservationAdapter
from snncontrol_ros import messages
from snncontrol_ros.adaptive import AdaptiveConfig
from snncontrol_ros.control_core import ControlCore, load_artifact, observation_size
from snncontrol_ros.diagnostics import DIAGNOSTIC_KEYS, ERROR, WARN, LatencyWindow, fmt, level_of
from snncontrol_ros.inputs import RESTART_READINGS, Inputs, ValidRange
from snncontrol_ros.runtime import check_declared, declare, one_line, run_node, value
from snncontrol_ros.safety import FAULT, SafetyConfig, Throttle

MODES = ("timer", "event", "adaptive")
FIXED_SIZES = {"range": 1, "float64": 1, "imu": 6}
MISSING_SAMPLES = ("hold", "safe")
RATE_HZ = (0.01, 10000.0)  # the control rates a timer can keep
STEADY = ClockType.STEADY_TIME
#: after a failed autostart, the process ends this long later (s, steady clock): /diagnostics subscribers discover
#: the node and hear its ERROR meanwhile (a launch file, a robot's monitor)
AUTOSTART_FAILED_EXIT_S = 3.0
#: the event mode's watchdog looks this often per input_timeout_s: the safe command follows a silent sensor within
#: 1 + 1 / WATCHDOG_CHECKS timeouts (at two looks it came up to 1.5 timeouts late, the last command held meanwhile)
WATCHDOG_CHECKS = 10
#: ... but not more often than every millisecond (an input_timeout_s of 0.1 ms would make it a 100 kHz timer)
WATCHDOG_MIN_PERIOD_S = 0.001
#: event ticks in a diagnostics window from which their rate is compared with the network's 1/dt
MIN_TICKS_FOR_RATE = 5

#: name -> (default, description); empty arrays are given by their type.
PARAMETERS: dict[str, tuple[object, str]] = {
    "artifact": ("shipped:blimp", "controller artifact directory, or shipped:NAME (snncontrol.controllers)"),
    "control_mode": ("timer", "timer | event | adaptive"),
    "adaptive_base": ("timer", "base tick of the adaptive mode: timer | event"),
    "control_rate_hz": (0.0, "timer rate (Hz); 0: the artifact's 1/dt"),
    "input_topics": (["altitude"], "sensor topics, concatenated in order into the observation"),
    "input_types": (["range"], "type of each input: range | joint_state | imu | float64 | float64_multi_array"),
    "joint_names": (Parameter.Type.STRING_ARRAY, "joint order for joint_state inputs (empty: that of each input's "
                    "first named message)"),
    "setpoint_topic": ("setpoint", "std_msgs/Float64 set-point appended to the observation ('' for none)"),
    "observation_adapter.kind": ("", "identity | select | setpoint_error: replaces the artifact's observation "
                                     "adapter ('' keeps it); see snncontrol.adapters"),
    "observation_adapter.indices": (Parameter.Type.INTEGER_ARRAY, "select: observation indices, in order"),
    "observation_adapter.scale": (Parameter.Type.DOUBLE_ARRAY, "scale per network input (1 value: all; empty: 1)"),
    "observation_adapter.offset": (Parameter.Type.DOUBLE_ARRAY, "select: offset per network input (empty: 0)"),
    "observation_adapter.rates": (Parameter.Type.INTEGER_ARRAY, "select: indices of the selected values' rates "
                                                                "(units/s), one each; empty: none"),
    "observation_adapter.lead": (0.0, "select with rates: read each value lead s ahead, value + lead x rate"),
    "observation_adapter.measurement": (0, "setpoint_error: index of the measured value in the observation"),
    "observation_adapter.setpoint": (1, "setpoint_error: index of the set-point in the observation"),
    "observation_adapter.valid": (Parameter.Type.DOUBLE_ARRAY, "[low, high): values read outside it are missing "
                                                               "samples (NaN to the network); empty: none"),
    "missing_samples": (Parameter.Type.STRING_ARRAY, "per input, on a lost sample: hold (the network's sample "
                        "hold carries the loop until input_timeout_s) | safe (the safe command at once); 1 value: "
                        "all; empty: hold"),
    "setpoint_default": (math.nan, "set-point used until one arrives (NaN: wait for the topic)"),
    "output_topic": ("thrust_command", "command topic"),
    "output_type": ("float64_multi_array", "float64_multi_array (ros2_control forward command) | twist"),
    "twist_fields": (Parameter.Type.STRING_ARRAY, "Twist fields of the command values, e.g. [linear.z]"),
    "input_timeout_s": (0.5, "an input without a valid sample for this long gives the safe command (s, node clock)"),
    "stamp_tolerance_s": (0.0, "with clocks synchronized: a reading stamped farther than this from the node clock "
                          "is not taken (s; 0: stamps not compared with it)"),
    "observation_min": (Parameter.Type.DOUBLE_ARRAY, "lower bound per observation value (1 value: all; empty: "
                                                     "none, the set-point within the adapter's valid range)"),
    "observation_max": (Parameter.Type.DOUBLE_ARRAY, "upper bound per observation value (1 value: all; empty: "
                                                     "none, the set-point within the adapter's valid range)"),
    "output_min": (Parameter.Type.DOUBLE_ARRAY, "command lower bound (empty: the artifact's action range; needed "
                   "where it has none)"),
    "output_max": (Parameter.Type.DOUBLE_ARRAY, "command upper bound (empty: the artifact's action range; needed "
                   "where it has none)"),
    "safe_command": ([0.0], "command sent on bad/stale input and on deactivation (1 value: all outputs)"),
    "sensor_reliability": ("best_effort", "QoS of the input subscriptions: best_effort | reliable"),
    "command_qos_depth": (1, "keep-last depth of the reliable command publisher (1..10)"),
    "echo_stamp": (False, "put the triggering input's header stamp into the command layout (latency probe)"),
    "adaptive_delta": (0.05, "send-on-delta threshold on the network input (adapter units, e.g. m of error)"),
    "adaptive_error_band": (0.05, "|network input| at or below which the error counts as small"),
    "adaptive_quiet_command_delta": (0.1, "command change at or below which the SNN counts as quiet"),
    "adaptive_quiet_spikes": (1.0e9, "spikes per SNN step at or below which the SNN counts as quiet"),
    "adaptive_max_interval": (8, "most base ticks between two SNN steps"),
    "diagnostics_period_s": (1.0, "period of the /diagnostics status (s, wall clock; fixed at start)"),
    "warn_throttle_s": (1.0, "at most one bad-input warning per this many seconds"),
    "hardware_id": ("", "hardware_id of the diagnostic status"),
    "autostart": (False, "configure and activate at start"),
}
RANGES = {
    "control_rate_hz": (0.0, RATE_HZ[1]),
    "input_timeout_s": (1e-4, 3600.0),
    "stamp_tolerance_s": (0.0, 3600.0),
    "command_qos_depth": (1, 10),
    "adaptive_max_interval": (1, 1000),
    "diagnostics_period_s": (0.01, 3600.0),
    "warn_throttle_s": (0.0, 3600.0),
}


class ControllerNode(LifecycleNode):
    def __init__(self, node_name: str = "snn_controller", **kwargs) -> None:
        super().__init__(node_name, **kwargs)
        for name, (default, description) in PARAMETERS.items():
            low, high = RANGES.get(name, (None, None))
            declare(self, name, default, description, low=low, high=high)
        self._core: ControlCore | None = None
        self._entities: list = []
        self._timer = None
        self._watchdog = None
        self._latch_timer = None
        self._active = False
        self._steady = Clock(clock_type=STEADY)
        check_declared(self)
        self.add_on_set_parameters_callback(self._on_set_parameters)  # (in front of rclpy's use_sim_time one)
        self._failure = ""  # why the latest configure failed
        self._finalized = False  # after the shutdown transition: no transition but destroy is left
        self.exit_status = 0  # for run_node: 1 once an autostart could not configure or activate
        self.done = threading.Event()  # run_node ends the process once it is set: after a failed autostart
        self._hardware_id = value(self, "hardware_id")
        self._diag_publisher = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._diag_timer = self.create_timer(value(self, "diagnostics_period_s"), self._publish_diagnostics,
                                             clock=self._steady)
        if self.get_parameter("autostart").value:
            if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
                self._autostart_failed("configure")
            elif self.trigger_activate() != TransitionCallbackReturn.SUCCESS:
                self._autostart_failed("activate")

    def _autostart_failed(self, transition: str) -> None:
        """Exit status 1; the process ends `AUTOSTART_FAILED_EXIT_S` from now (`done`), after one ERROR line with
        the reason (the last line of its log: a launcher that watches the process prints it)."""
        self.exit_status = 1
        reason = self._failure or f"{transition} failed (see the log above)"

        def stop() -> None:
            self.destroy_timer(timer)
            self._publish_diagnostics()  # ERROR, to the /diagnostics subscribers found meanwhile
            self.get_logger().error(f"autostart failed: {reason}; exiting with status 1")
            self.done.set()

        timer = self.create_timer(AUTOSTART_FAILED_EXIT_S, stop, clock=self._steady)

    # --- lifecycle ------------------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._configure()
        except Exception as exc:  # anything a bad artifact or parameter raises: one line, the node lives on
            self._failure = one_line(exc)
            self.get_logger().error(f"configure failed: {self._failure}")
            self._destroy_entities()
            self._core = None
            self._publish_diagnostics()
            return TransitionCallbackReturn.FAILURE
        self._failure = ""
        self.get_logger().info(
            f"configured: {self._artifact_name} ({self._core.controller.spec.name or 'unnamed'}), "
            f"{self._mode} mode, {self._rate_hz:g} Hz, inputs {self._input_topics} -> {self._output_topic}"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._core.reset()
        self._reset_stats()
        self._active = True
        clock = None if self._sim_time else self._steady  # (None: the node clock, sim time)
        if self._timer_base:
            self._timer = self.create_timer(1.0 / self._rate_hz, self._on_timer, clock=clock)
        else:
            period = max(self._safety.input_timeout_s / WATCHDOG_CHECKS, WATCHDOG_MIN_PERIOD_S)
            self._watchdog = self.create_timer(period, self._on_watchdog, clock=clock)
        self.get_logger().info("activated: controlling")
        return TransitionCallbackReturn.SUCCESS

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_control()
        self.get_logger().info("deactivated: safe command sent")
        return TransitionCallbackReturn.SUCCESS

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._destroy_entities()
        self._core = None
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._active:
            self._stop_control()
        self._destroy_entities()
        self._core = None
        self._finalized = True
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        """A transition that raised: the safe command, then back to unconfigured as cleanup leaves it (so that
        parameters can be set and the node configured again)."""
        if self._active:
            self._stop_control()
        self._destroy_entities()
        self._core = None
        return TransitionCallbackReturn.SUCCESS

    def before_shutdown(self) -> None:
        """Process exit (SIGINT/SIGTERM): leave the actuator with the safe command."""
        if self._active:
            self._stop_control()

    @property
    def active(self) -> bool:
        return self._active

    @property
    def core(self) -> ControlCore | None:
        return self._core

    @property
    def failure(self) -> str:
        """Why the latest configure failed ('' if it did not)."""
        return self._failure

    # --- configuration --------------------------------------------------------------------------------------
    def _on_set_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        """Every parameter is read at configure (use_sim_time too: the node's clock and timers): while configured
        a change would be reported as set and not take effect (a lowered output_max ignored; timers frozen on a
        sim clock nothing publishes), so it is refused. `diagnostics_period_s` is fixed at start."""
        def listed(v: object) -> object:  # (array parameters read back as array.array)
            return list(v) if isinstance(v, array.array | list | tuple) else v

        changed = [p.name for p in parameters
                   if not self.has_parameter(p.name) or listed(value(self, p.name)) != listed(p.value)]
        if "diagnostics_period_s" in changed:
            return SetParametersResult(successful=False, reason="diagnostics_period_s is fixed at start")
        if changed and self._core is not None:
            return SetParametersResult(successful=False, reason=(
                f"{', '.join(changed)}: read at configure; deactivate and clean up the node, set, configure again"))
        return SetParametersResult(successful=True)

    def _param(self, name: str):
        return value(self, name)

    def _configure(self) -> None:
        p = self._param
        self._artifact_name = p("artifact")
        controller = load_artifact(self._artifact_name)
        if p("observation_adapter.kind"):
            observation = ObservationAdapter(
                kind=p("observation_adapter.kind"), indices=tuple(p("observation_adapter.indices")),
                scale=tuple(p("observation_adapter.scale")) or (1.0,),
                offset=tuple(p("observation_adapter.offset")) or (0.0,),
                measurement=p("observation_adapter.measurement"), setpoint=p("observation_adapter.setpoint"),
                valid=tuple(p("observation_adapter.valid")) or None,
                rates=tuple(p("observation_adapter.rates")), lead=p("observation_adapter.lead"),
            )
            controller.io = IOAdapters(observation, controller.io.action)
        self._mode = p("control_mode")
        if self._mode not in MODES:
            raise ValueError(f"control_mode must be one of {MODES}, got {self._mode!r}")
        self._adaptive_base = p("adaptive_base")
        if self._adaptive_base not in ("timer", "event"):
            raise ValueError(f"adaptive_base must be timer or event, got {self._adaptive_base!r}")
        self._timer_base = self._mode == "timer" or (self._mode == "adaptive" and self._adaptive_base == "timer")
        self._rate_hz = p("control_rate_hz") or 1.0 / controller.spec.dt
        if not RATE_HZ[0] <= self._rate_hz <= RATE_HZ[1]:
            raise ValueError(f"control rate {self._rate_hz:g} Hz (the artifact's dt {controller.spec.dt:g} s) is "
                             f"outside [{RATE_HZ[0]:g}, {RATE_HZ[1]:g}] Hz: set control_rate_hz")
        if self._mode == "timer" and abs(self._rate_hz * controller.spec.dt - 1.0) > 0.01:
            self.get_logger().warning(
                f"control_rate_hz {self._rate_hz:g} Hz: the network was made for steps of {controller.spec.dt:g} s "
                f"({1.0 / controller.spec.dt:g} Hz); ticking at another rate runs its dynamics "
                f"{self._rate_hz * controller.spec.dt:.3g}x as fast (0: the artifact's rate)")
        self._input_topics, self._input_types = list(p("input_topics")), list(p("input_types"))
        if not self._input_topics or len(self._input_topics) != len(self._input_types):
            raise ValueError("input_topics and input_types must be non-empty and of the same length")
        for kind in self._input_types:
            if kind not in messages.INPUT_TYPES:
                raise ValueError(f"unknown input type {kind!r} (known: {', '.join(messages.INPUT_TYPES)})")
        self._joint_names = list(p("joint_names"))
        n_in = len(self._input_topics)
        policies = list(p("missing_samples")) or ["hold"]
        if len(policies) not in (1, n_in) or any(m not in MISSING_SAMPLES for m in policies):
            raise ValueError(f"missing_samples must be 1 or {n_in} of {MISSING_SAMPLES}, got {policies}")
        hold = [m == "hold" for m in policies * (n_in if len(policies) == 1 else 1)]
        self._setpoint_topic = p("setpoint_topic")
        self._output_topic, self._output_type = p("output_topic"), p("output_type")
        if self._output_type not in messages.OUTPUT_TYPES:
            raise ValueError(f"unknown output type {self._output_type!r} (known: {', '.join(messages.OUTPUT_TYPES)})")
        n_act = controller.spec.n_outputs
        self._twist_fields = list(p("twist_fields"))
        if self._output_type == "twist":
            messages.check_twist_fields(self._twist_fields, n_act)
        action = controller.io.action
        out_min = list(p("output_min")) or ([action.low] if action.kind == "affine_clip" else [])
        out_max = list(p("output_max")) or ([action.high] if action.kind == "affine_clip" else [])
        sizes = self._input_sizes(controller)
        known = all(size is not None for size in sizes)
        n_obs = sum(sizes) + (1 if self._setpoint_topic else 0) if known else None  # type: ignore[arg-type]
        observation_min, observation_max = list(p("observation_min")), list(p("observation_max"))
        self._safety = SafetyConfig.create(
            n_act, list(p("safe_command")), out_min, out_max, p("input_timeout_s"), observation_min,
            observation_max, n_obs, self._setpoint_bound(controller, not observation_min, not observation_max),
        )
        if not (np.isfinite(self._safety.output_low).all() and np.isfinite(self._safety.output_high).all()):
            raise ValueError(f"no finite command range: the artifact's action adapter ({action.kind}) bounds no "
                             "command; give output_min and output_max (the actuator's range)")
        adaptive = None
        if self._mode == "adaptive":
            adaptive = AdaptiveConfig(
                delta=p("adaptive_delta"), error_band=p("adaptive_error_band"),
                quiet_command_delta=p("adaptive_quiet_command_delta"), quiet_spikes=p("adaptive_quiet_spikes"),
                max_interval=p("adaptive_max_interval"),
            )
        core = ControlCore(controller, self._safety, adaptive)
        if n_obs is not None:
            problem = core.check_size(n_obs)
            if problem:
                raise ValueError(f"inputs {self._input_types} (+ set-point) do not fit the artifact: {problem}")
            core.guarded_io(n_obs)  # the compiled tick loaded (or compiled) now, not on the first reading
        self._core = core
        # The node clock (ns): sim time from /clock with use_sim_time; otherwise the system time, which is what
        # the ROS clock then reads (CLOCK_REALTIME), taken without rclpy's Time objects (tens of us per tick
        # with cold caches). Fixed on configure, like every parameter.
        self._sim_time = bool(p("use_sim_time"))
        self._read_clock = self._ros_now_ns if self._sim_time else time.time_ns
        self._clock_last_ns = 0
        self._echo = bool(p("echo_stamp"))
        self._throttle = Throttle(p("warn_throttle_s"))
        self._stamp_throttle = Throttle(p("warn_throttle_s"))
        self._restart_throttle = Throttle(p("warn_throttle_s"))
        names: list[str] = [""] * n_in  # each input's resolved topic, filled as it is subscribed
        self._inputs = Inputs(names, self._input_types, sizes, self._valid_ranges, hold, self._joint_names,
                              self._safety.input_timeout_s, bool(self._setpoint_topic), p("setpoint_default"),
                              p("stamp_tolerance_s"))
        self._create_entities(names, p("sensor_reliability"), p("command_qos_depth"))
        self._hardware_id = p("hardware_id")
        self._reset_stats()

    def _input_sizes(self, controller) -> list[int | None]:
        """The number of values each input carries: fixed by its type (joint_state: by joint_names), or the
        remainder of the observation size the adapter fixes for a single input of free size; None: any."""
        sizes: list[int | None] = [
            FIXED_SIZES.get(kind, 2 * len(self._joint_names) if kind == "joint_state" and self._joint_names else None)
            for kind in self._input_types
        ]
        total = observation_size(controller)
        free = [i for i, size in enumerate(sizes) if size is None]
        if total is not None and len(free) == 1:
            rest = total - sum(size for size in sizes if size is not None) - (1 if self._setpoint_topic else 0)
            if rest < 1:
                raise ValueError(f"the observation adapter takes {total} value(s): no room for input "
                                 f"{self._input_topics[free[0]]!r}")
            sizes[free[0]] = rest
        return sizes

    def _valid_ranges(self, sizes: tuple[int, ...]) -> list[ValidRange] | None:
        """Per input of `sizes` values each, the elements the adapter reads and its valid [low, high) on them (low
        clamped to the finite doubles: one pair of comparisons rejects NaN and +-inf too) and the observation bounds
        the tick refuses a value beyond; None where those sizes do not fit the controller (the tick says why)."""
        n_obs = sum(sizes) + (1 if self._setpoint_topic else 0)
        if self._core.check_size(n_obs) is not None:
            return None
        low, high = self._core.valid_range(n_obs)
        read = self._core.read_elements(n_obs)
        try:
            bound_low, bound_high = self._core.safety.bounds(n_obs)
        except ValueError:  # bounds of another size: the tick says so
            bound_low, bound_high = np.full(n_obs, -np.inf), np.full(n_obs, np.inf)
        big = np.finfo(np.float64).max
        ends = np.cumsum([0, *sizes])
        return [ValidRange(np.maximum(low[a:b], -big), high[a:b], read[a:b], bound_low[a:b], bound_high[a:b])
                for a, b in itertools.pairwise(ends)]

    @staticmethod
    def _setpoint_bound(controller, low: bool, high: bool) -> tuple[int, float, float] | None:
        """The default bound of the set-point of a setpoint_error adapter with a `valid` range (a set-point the
        sensor cannot read cannot be reached), from the set-point topic or inside an input alike, in an
        observation of any size: its low end where no observation_min is given (`low`), its high end where no
        observation_max is; None where none applies."""
        observation = controller.io.observation
        if observation.kind != "setpoint_error" or observation.valid is None or not (low or high):
            return None
        # the bound is closed, the adapter's valid range half-open: its top (a lost return) cannot be measured
        valid_low, valid_high = observation.valid
        return (observation.setpoint, valid_low if low else -math.inf,
                float(np.nextafter(valid_high, -np.inf)) if high else math.inf)

    def _create_entities(self, names: list[str], reliability: str, depth: int) -> None:
        """The subscriptions (filling `names` with each input's resolved topic), the command publisher."""
        sensor_qos = messages.sensor_qos(reliability)
        self._warned_qos: set[str] = set()
        if self._setpoint_topic:  # created first: handled first when a set-point and a reading arrive together
            volatile = messages.setpoint_qos(DurabilityPolicy.VOLATILE)  # any reliable publisher meets it
            setpoint_name = self._subscribe(Float64, self._setpoint_topic, self._on_setpoint, volatile,
                                            "setpoint_topic").topic_name
            self._latch_timer = self.create_timer(0.1, lambda: self._request_latched(setpoint_name),
                                                  clock=self._steady)
        inputs = list(enumerate(zip(self._input_topics, self._input_types, strict=True)))
        for index, (topic, kind) in inputs[1:] + inputs[:1]:  # the trigger (input 0) last, for the same reason
            names[index] = self._subscribe(
                messages.INPUT_TYPES[kind], topic, lambda msg, i=index: self._on_input(i, msg), sensor_qos,
                f"input_topics[{index}]",
            ).topic_name
        self._names = names + ([setpoint_name] if self._setpoint_topic else [])
        self._core.names = self._names
        sizes = self._inputs.sizes
        if all(size is not None for size in sizes):
            self._core.labels = [
                name if size == 1 else f"{name}[{j}]"
                for name, size in zip(names, sizes, strict=True) for j in range(size)  # type: ignore[arg-type]
            ] + self._names[len(names):]
        self._publisher = self.create_publisher(
            messages.OUTPUT_TYPES[self._output_type], self._output_topic, messages.command_qos(depth)
        )
        self._command = messages.CommandMessage(self._output_type, self._twist_fields)  # filled every tick

    def _request_latched(self, topic: str) -> None:
        """Until a set-point arrives: once a latched (transient local) publisher is on `topic`, subscribe latched
        too, for the value it published before; only then, so that volatile publishers, which cannot meet that
        subscription, are not told about it."""
        publishers = self.get_publishers_info_by_topic(topic)
        latched = any(e.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for e in publishers)
        if self._inputs.setpoint is None and not latched:
            return
        self._latch_timer.cancel()
        if self._inputs.setpoint is None:
            self._entities.append(self.create_subscription(
                Float64, topic, self._on_latched_setpoint, messages.setpoint_qos(),
                event_callbacks=SubscriptionEventCallbacks(use_default_callbacks=False),
            ))

    def _subscribe(self, msg_type: type, topic: str, callback, qos: QoSProfile, parameter: str):
        """A subscription that reports a publisher of incompatible QoS (once per topic); a topic name rcl refuses
        is a ValueError naming the `parameter` that gave it."""
        holder: list = []
        events = SubscriptionEventCallbacks(incompatible_qos=lambda info: self._on_incompatible(holder[0], qos, info))
        try:
            sub = self.create_subscription(msg_type, topic, callback, qos, event_callbacks=events)
        except NameValidationException as exc:
            raise ValueError(f"{parameter}: {one_line(exc)}") from None
        holder.append(sub)
        self._entities.append(sub)
        return sub

    def _on_incompatible(self, sub, qos: QoSProfile, info) -> None:
        topic = sub.topic_name
        if topic in self._warned_qos:
            return
        self._warned_qos.add(topic)
        offered = [endpoint.qos_profile for endpoint in self.get_publishers_info_by_topic(topic)]
        # (the enums order the policies weakest last: BEST_EFFORT after RELIABLE, VOLATILE after TRANSIENT_LOCAL)
        incompatible = [q for q in offered if q.reliability.value > qos.reliability.value
                        or q.durability.value > qos.durability.value] or offered
        self.get_logger().warning(
            messages.incompatible_qos_warning(topic, qos, incompatible, info.last_policy_kind.name)
        )

    def _destroy_entities(self) -> None:
        self._cancel_timers()
        if self._latch_timer is not None:
            self.destroy_timer(self._latch_timer)
            self._latch_timer = None
        for sub in self._entities:
            self.destroy_subscription(sub)
        self._entities = []
        pub = getattr(self, "_publisher", None)
        if pub is not None:
            self.destroy_publisher(pub)
            self._publisher = None

    def _cancel_timers(self) -> None:
        for name in ("_timer", "_watchdog"):
            timer = getattr(self, name)
            if timer is not None:
                self.destroy_timer(timer)
                setattr(self, name, None)

    def _stop_control(self) -> None:
        self._cancel_timers()
        self._active = False
        if self._core is not None and self._publisher is not None:
            self._core.held = self._safety.safe_command.copy()
            self._publisher.publish(self._command.fill(self._safety.safe_command))
            self._last_command = self._safety.safe_command.copy()

    # --- control --------------------------------------------------------------------------------------------
    def _clock_now_ns(self) -> int:
        """The node clock (ns) without the jump check of `_now_ns`: sim time under use_sim_time, else the system
        clock (before configure, which picks it: the system clock)."""
        read = getattr(self, "_read_clock", None)
        return read() if read is not None else time.time_ns()

    def _ros_now_ns(self) -> int:
        return self.get_clock().now().nanoseconds

    def _now_ns(self) -> int:
        """The node clock (ns). Where it jumped back (a simulator reset, a bag played in a loop, the system clock
        set back), the inputs received before are dropped, so that none looks younger than it is: control waits
        for fresh ones (the safe command meanwhile) and the watchdog counts from the jump."""
        now = self._read_clock()
        if now < self._clock_last_ns:
            self._inputs.drop()
            self._activated_ns, self._last_tick_ns, self._last_trigger_stamp = now, None, None
            self.get_logger().warning(f"the node clock jumped back by {(self._clock_last_ns - now) * 1e-9:.3f} s: "
                                      "inputs received before are dropped")
        self._clock_last_ns = now
        return now

    def _on_setpoint(self, msg: Float64) -> None:
        self._inputs.setpoint = float(msg.data)

    def _on_latched_setpoint(self, msg: Float64) -> None:
        """The latched subscription: taken only while no set-point has arrived. Live values come on the volatile
        one too; a stored value delivered after a newer live one (discovery races) must not replace it."""
        if self._inputs.setpoint is None:
            self._on_setpoint(msg)

    def _on_input(self, index: int, msg) -> None:
        t0 = time.perf_counter()
        now = self._now_ns()
        receipt, back_s = self._inputs.receive(index, msg, now)
        latest, name = self._inputs.latest[index], self._names[index]
        if receipt == "off_clock":
            if self._stamp_throttle.ready(time.monotonic()):
                self.get_logger().warning(f"{name}: a reading stamped {back_s:+.3f} s before the node clock, beyond "
                                          f"stamp_tolerance_s {self._inputs.stamp_tolerance_ns * 1e-9:g} s, is not "
                                          "taken")
            return
        assert latest is not None  # (taken or not, the input has a reading: a not-newer one needs an earlier)
        if receipt == "not_newer":
            if self._stamp_throttle.ready(time.monotonic()):
                self.get_logger().warning(f"{name}: a reading stamped {messages.stamp_ns(msg) * 1e-9:.3f} s, not "
                                          f"newer than the latest ({latest.stamp_ns * 1e-9:.3f} s), is not taken")
        elif receipt == "restarting":
            if self._restart_throttle.ready(time.monotonic()):
                self.get_logger().warning(f"{name}: a reading stamped {back_s:.3f} s before the latest is not taken "
                                          f"until {RESTART_READINGS} in a row come on that time base over "
                                          f"input_timeout_s (a source that restarted; or a second publisher on the "
                                          "topic)")
            return
        else:
            if receipt == "restarted":
                self.get_logger().warning(f"{name}: stamps went back by {back_s:.3f} s (a source that restarted): "
                                          "taken as new readings")
            if latest.lost:
                self._core.counters.missing_samples += 1
        if index != 0 or not self._active or self._timer_base:
            return
        if latest.stamp_ns is not None and latest.stamp_ns == self._last_trigger_stamp:
            return  # already answered
        self._last_trigger_stamp = latest.stamp_ns
        self._tick(t0, latest.stamp_ns or 0, now)  # (echoed: 0 for a zero stamp, e.g. a lockstep sim's first reading)

    def _on_timer(self) -> None:
        t0 = time.perf_counter()
        now = self._now_ns()
        # missed ticks on the timer's clock (a system clock set forward missed none)
        tick_ns = now if self._sim_time else time.monotonic_ns()
        if self._last_tick_ns is not None:
            periods = (tick_ns - self._last_tick_ns) * 1e-9 * self._rate_hz
            if periods > 1.5:
                self._missed += round(periods) - 1
        self._last_tick_ns = tick_ns
        latest = self._inputs.latest[0]
        self._tick(t0, latest.stamp_ns if latest is not None else None, now)

    def _on_watchdog(self) -> None:
        """Event base: no reading for input_timeout_s -> a tick (which sends the safe command)."""
        latest = self._inputs.latest[0]
        now = self._now_ns()
        last = max(latest.recv_ns if latest else 0, self._activated_ns)
        if (now - last) * 1e-9 > self._safety.input_timeout_s:
            self._tick(time.perf_counter(), None, now)

    def _tick(self, t0: float, stamp: int | None, now: int) -> None:
        """One control tick at node-clock time `now` (ns); `t0` (perf_counter s) starts the latency measure."""
        if not self._active:
            return
        observation = self._inputs.observation(now)
        was_safe = self._core.counters.holding_safe
        result = self._core.tick(observation.values, observation.ages, observation.problem, observation.held)
        if result.verdict.ok and None in self._inputs.held_sizes:
            for name, size in self._inputs.hold_sizes():
                self.get_logger().info(f"{name}: {size} value(s) a message from now on")
        self._publisher.publish(self._command.fill(result.command, stamp if self._echo else None))
        self._latency.add(time.perf_counter() - t0)
        self._last_command = result.command
        if result.verdict.status == FAULT:  # the network was reset to rest: its energy counts from zero again
            self._window_energy = self._core.policy.energy()
        if not result.verdict.ok:
            self._window_problems += 1
            if self._throttle.ready(time.monotonic()):
                self.get_logger().warning(
                    f"safe command {result.command.tolist()}: {result.verdict.status}"
                    f"{'' if result.verdict.status == FAULT else ' input'}: {result.verdict.reason}"
                )
        elif was_safe:
            self.get_logger().info("inputs good again: control resumed")

    # --- diagnostics ----------------------------------------------------------------------------------------
    def _reset_stats(self) -> None:
        self._last_trigger_stamp: int | None = None  # (a reading re-sent after a re-activation is answered again)
        self._latency = LatencyWindow()
        self._missed = 0
        self._window_missed_base = 0
        self._window_problems = 0
        self._last_tick_ns: int | None = None
        self._activated_ns = self._now_ns()
        self._last_command = self._safety.safe_command.copy() if self._core is not None else np.zeros(0)
        self._window_t = time.monotonic()
        self._window_clock_ns = self._clock_now_ns()
        self._window_energy = self._core.policy.energy() if self._core is not None else None
        self._window_ticks = 0

    def diagnostics(self) -> tuple[int, str, dict[str, str]]:
        """(level, message, key -> value) now; resets the per-window figures."""
        configured = self._core is not None
        state = "active" if self._active else ("inactive" if configured else "unconfigured")
        values: dict[str, object] = {key: "" for key in DIAGNOSTIC_KEYS}
        values["lifecycle_state"] = "finalized" if self._finalized else state
        if not configured:
            level, message = level_of(False, False, False, 0, 0, math.nan, 0.0)
            if self._finalized:
                level, message = WARN, "finalized (shut down: not controlling)"
            elif self._failure:
                level, message = ERROR, f"configure failed: {self._failure}"
            return level, message, {k: fmt(v) for k, v in values.items()}
        core = self._core
        now = time.monotonic()
        window = max(now - self._window_t, 1e-9)
        energy = core.policy.energy()
        since = energy.since(self._window_energy)  # type: ignore[arg-type]
        d_ticks = core.ticks - self._window_ticks
        p50, p99, pmax = self._latency.percentiles_ms()
        missed_window = self._missed - self._window_missed_base
        rate = self._rate_hz if self._timer_base else d_ticks / window
        # no tick at all where a timer would have made two (or the event watchdog many: no reading for the timeout)
        expected_s = max(2.0 / self._rate_hz if self._timer_base else 0.0, self._safety.input_timeout_s)
        stalled_s = window if self._active and d_ticks == 0 and window >= expected_s else 0.0
        c = core.counters
        values.update({
            "artifact": str(self._artifact_name),
            "control_mode": self._mode,
            "control_rate_hz": float(rate),
            "ticks": core.ticks,
            "snn_steps": core.snn_steps,
            "skipped_ticks": core.ticks - core.snn_steps - c.safe_commands,
            "missed_ticks": self._missed,
            "latency_p50_ms": p50,
            "latency_p99_ms": p99,
            "latency_max_ms": pmax,
            "spike_rate_hz": float(since.spike_rate_hz[0]),
            "sops_per_s": float(since.sops[0]) / window,
            "snn_energy_per_s_j": float(since.snn_energy_j[0]) / window,
            "stale_inputs": c.stale,
            "missing_inputs": c.missing,
            "invalid_inputs": c.invalid,
            "missing_samples": c.missing_samples,
            "held_samples": c.held,
            "network_faults": c.fault,
            "saturated_commands": c.saturated,
            "safe_commands": c.safe_commands,
            "holding_safe_command": bool(c.holding_safe),
            "last_command": np.asarray(self._last_command),
        })
        # each tick an SNN step of dt: event ticks per s of the node clock (sim time under use_sim_time, where each
        # lockstep reading is one dt however fast the wall clock runs); adaptive mode skips steps by design, and a few
        # event ticks make no rate
        clock_ns = self._clock_now_ns()
        node_window_s = (clock_ns - self._window_clock_ns) * 1e-9
        if self._mode == "timer":
            tick_rate = self._rate_hz
        elif self._mode == "event" and d_ticks >= MIN_TICKS_FOR_RATE and node_window_s > 0:
            tick_rate = d_ticks / node_window_s
        else:
            tick_rate = math.nan
        level, message = level_of(self._active, True, c.holding_safe, self._window_problems, missed_window, p99,
                                  1e3 / self._rate_hz, stalled_s, c.reason, tick_rate, 1.0 / core.controller.spec.dt)
        self._window_t, self._window_energy, self._window_ticks = now, energy, core.ticks
        self._window_clock_ns = clock_ns
        self._window_problems, self._window_missed_base = 0, self._missed
        self._latency.clear()
        return level, message, {k: fmt(v) for k, v in values.items()}

    def _publish_diagnostics(self) -> None:
        level, message, values = self.diagnostics()
        status = DiagnosticStatus(
            level=bytes([level]), name=f"{self.get_name()}: snn controller", message=message,
            hardware_id=self._hardware_id, values=[KeyValue(key=k, value=v) for k, v in values.items()],
        )
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_publisher.publish(array)


def main(argv: list[str] | None = None) -> int:
    return run_node(lambda context: ControllerNode(context=context), argv, "SNN controller node (lifecycle)")


if __name__ == "__main__":
    raise SystemExit(main())
