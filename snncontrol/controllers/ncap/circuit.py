"""The NCAP swimmer circuit (Bhattasali, Zador, Engel, NeurIPS 2022) as a network of the SNN core.

One spec builder, `ncap_spec(n_links, variant)`, for any body of n >= 2 links (n_joints = n - 1 joints, head to
tail). The circuit is a plain `NetworkSpec` (a stack of four core layers), so it evolves, runs, saves as an
artifact and (spiking variant) exports to NIR like any other controller:

    angles / joint_limit --[sensory]--> B-neurons --[bneuron]--> muscles --[muscle]--> torques --[torque]--> action

Inputs (the observation adapter `ncap_io(n_links)`, kind "select"): the n_joints joint angles of the swimmer
observation, indices 0 .. n_joints - 1 in the plant's order head to tail, each divided by the joint limit
2*pi/n_links (so +-1 at the limits). Another swimmer body whose observation holds the joint angles (rad, head
to tail) from index k on takes `ncap_io(n_links, first_angle=k)`: Gymnasium's Swimmer-v5 (3 links, observation
[body angle, 2 joint angles, velocities]) takes first_angle=1. With `speed=True` one more input follows (the
brake 1 - s of a speed command s in [0, 1], which inhibits every B-neuron); with `turn=True` two more (right,
left turn commands >= 0, excite the dorsal / ventral B-neurons of the first `turn_joints` joints: all of them on
a body with fewer, so that `retarget` carries one setting to every body; the spec keeps the setting). Command
channels are not in the plant's observation: append them with `with_commands(x, ...)` after the adapter.

Layer "sensory" (fixed, no evolvable parameter but the clock's half period), neurons in this order:
  - 2 per joint j = 0 .. n_joints - 1: dorsal (2j) reads +angle_j, ventral (2j + 1) reads -angle_j. With graded
    units clamp(x, 0, 1) this is exactly the paper's split dorsal = clamp(q, 0, 1), ventral = -clamp(q, -1, 0).
    (The last joint's pair is computed but wired to nothing: the circuit reads joints 0 .. n_joints - 2.)
  - `period` pacemaker neurons: a ring (recurrent, fixed weights) in which exactly one neuron is active per
    step, neuron k at step t = k (mod period). Neuron 0 has a bias of 1 and is inhibited by neurons
    0 .. period - 2, so it fires at step 0 (it starts the ring from rest) and again every `period` steps;
    neuron k + 1 is excited by neuron k. Neurons 0 .. period/2 - 1 are the dorsal half of the head oscillator,
    the others the ventral half: the paper's square wave of `period` control steps, dorsal active first.
    With `oscillator="clock"` (spiking only) the ring is replaced by six units whose period is evolvable, see
    "Evolvable period" below.
  - speed command neuron, turn right / turn left neurons (only when enabled).
Layer "bneuron" (2 per joint, dorsal 2i, ventral 2i + 1), tied input weights, sign-constrained:
  - proprioceptive (excitatory): sensory pair of joint i - 1 -> B pair of joint i, same side (i >= 1);
  - oscillator (excitatory): dorsal / ventral half of the ring (or the clock's toggle) -> dorsal / ventral
    B-neuron of joint 0;
  - speed (inhibitory, optional): speed neuron -> every B-neuron. The neuron carries the brake 1 - s of a speed
    command s in [0, 1] (`with_commands`; the reference code's speed control: 1 full speed, 0 stopped);
  - turn (excitatory, optional): right -> dorsal, left -> ventral B-neuron of joints 0 .. turn_joints - 1.
Layer "muscle" (2 per joint, dorsal 2i, ventral 2i + 1): ipsilateral (excitatory) B_d -> M_d, B_v -> M_v;
  contralateral (inhibitory) B_v -> M_d, B_d -> M_v.
Layer "torque" (one leaky integrator per joint, fixed): torque_i = gain * (M_d - M_v), low-pass filtered.

Evolvable parameters (genome order): `bneuron.w_in` = [proprioceptive, oscillator, (speed), (turn)] and
`muscle.w_in` = [ipsilateral, contralateral]: 4 parameters whatever n (5 or 6 with the command inputs; one more
in front, `sensory.w_rec` = the half period, with `oscillator="clock"`), shared
by every joint through the core's tied connections. Their signs are enforced by the core's per-synapse sign
clamping in the forward pass (excitatory max(w, 0), inhibitory min(w, 0)), so any genome within the bounds
(-2, 2) gives a valid E/I circuit. Initialization as in the paper: excitatory +1, inhibitory -1.

Evolvable period (`oscillator="clock"`, spiking variant): the head oscillator is a spiking clock and a
spiking toggle (flip-flop) instead of the ring, 6 sensory neurons whatever the period, all wired by the sensory
layer's recurrent connection, whose one shared weight w (`sensory.w_rec`, bounds `HALF_PERIOD_BOUNDS`) is
evolved: the half period in control steps. Units (decay 0, threshold 0.5, unless said otherwise):
  - starter S (bias 1, inhibited by D and V): fires at step 0 only and switches D on;
  - clock C: a perfect integrator (decay 1, threshold 0, bias 1 per step) inhibited by its own spike with
    weight w, so it fires on average every w steps (the soft reset keeps the remainder: w need not be an
    integer; successive intervals are floor(w) or ceil(w) steps);
  - toggle halves D (dorsal) and V (ventral), each holding itself on (self-excitation), and the gates
    D_off = C and not V, V_off = C and not D: a clock spike at step t turns the active half off and the other
    on at step t + 2, so D and V are complementary square waves of period 2 w steps, dorsal first.
Every synapse is an integer multiple of w (1, -1 or -2) and every gate's threshold lies below w, so the logic is
exact for any w in the bounds and w changes nothing but the period. `period` is then the initial period
(w = period / 2); `ncap_period(spec, genome)` reads an evolved one back (control steps; times dt in s).

The spec records how it was built in `spec.metadata` ({"builder": "ncap"} and the `ncap_spec` keywords, see
`ncap_options`), which `retarget`, `ncap_weights` and `ncap_genome` read; its name is only a label.

Variants (same wiring, same parameters):
  - "graded": every neuron a `Graded` unit clamp(x, 0, 1) and the torque unit a leaky integrator with decay 0
    (the identity): torque = M_d - M_v exactly, the paper's circuit. Not NIR-exportable (Graded units).
  - "spiking": every neuron a plain (non-synaptic) LIF with soft reset, with the fixed constants below;
    proprioception is rate coded by the sensory LIF neurons, the pacemaker ring is a ring of LIF neurons (a
    spiking pacemaker whose dorsal / ventral halves spike once per step while active, i.e. a spike-encoded
    square wave), and the torque is decoded from the muscle spikes by a leaky integrator. Exports to NIR
    (soft reset kept in our NIR metadata; `strict=True` export refuses it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.connections import Connection
from snncontrol.errors import SpecError
from snncontrol.layers import Layer
from snncontrol.neurons.models import LIF, Graded, LeakyIntegrator
from snncontrol.spec import NetworkSpec

VARIANTS = ("graded", "spiking")
PERIOD = 60  # control steps of the head oscillator (paper default)
DT = 0.03  # s, the swimmer's control step (6 x 5 ms)
#: `NetworkSpec.metadata` of an NCAP: {"builder": BUILDER} and the `ncap_spec` keywords OPTION_NAMES (not dt).
BUILDER = "ncap"
OPTION_NAMES = ("n_links", "variant", "period", "speed", "turn", "turn_joints")
#: Head oscillators: the fixed pacemaker ring (default) or the clock + toggle with an evolvable period. The
#: metadata holds "oscillator" only when it is not the ring (so every ring NCAP's spec is as it always was).
OSCILLATORS = ("ring", "clock")
#: Bounds of the clock's evolvable half period (control steps; the period is twice the half period).
HALF_PERIOD_BOUNDS = (2.0, 100.0)
#: The clock oscillator's units in the sensory layer, in this order.
CLOCK_UNITS = ("starter", "clock", "dorsal", "ventral", "dorsal_off", "ventral_off")
WEIGHT_BOUNDS = (-2.0, 2.0)
#: Names of the shared weights, in genome order (speed / turn only when enabled).
WEIGHT_NAMES = ("proprioceptive", "oscillator", "speed", "turn", "ipsilateral", "contralateral")
#: Sign of each shared weight: +1 excitatory (>= 0), -1 inhibitory (<= 0); paper initialization is this sign.
WEIGHT_SIGNS = {"proprioceptive": 1, "oscillator": 1, "speed": -1, "turn": 1, "ipsilateral": 1, "contralateral": -1}


@dataclass(frozen=True)
class SpikingConstants:
    """Fixed (not evolved) constants of the spiking variant; decays are per control step, whatever its length
    (`ncap_spec(dt=...)`: the plant's 0.03 s, Swimmer-v5's 0.04 s), so their time constants in s scale with it.

    sensory_decay / sensory_theta: the proprioceptive rate encoders (leak keeps a long negative input from
        silencing the neuron once the angle turns back).
    ring_theta: threshold of the pacemaker ring neurons (decay 0: each fires iff its input exceeds it).
    bneuron_*, muscle_*: the LIF B-neurons and muscle neurons.
    readout_decay / readout_gain: torque = gain * (1 - decay) * sum_k decay^k (spikes_d - spikes_v)[t - k].
    """

    sensory_decay: float = 0.6
    sensory_theta: float = 0.5
    ring_theta: float = 0.5
    bneuron_decay: float = 0.6
    bneuron_theta: float = 0.5
    muscle_decay: float = 0.6
    muscle_theta: float = 0.5
    readout_decay: float = 0.5
    readout_gain: float = 1.0


SPIKING = SpikingConstants()


def _check_links(n_links: Any) -> None:
    if not isinstance(n_links, int) or isinstance(n_links, bool) or n_links < 2:
        raise SpecError(f"NCAP needs an integer number of links >= 2, got {n_links!r}")


def _check(
    n_links: int, variant: str, period: int, turn_joints: int, oscillator: str, speed: bool = False, turn: bool = False
) -> None:
    _check_links(n_links)
    for name, value in (("speed", speed), ("turn", turn)):
        if not isinstance(value, bool):
            raise SpecError(f"NCAP {name} (a command input or not) must be true or false, got {value!r}")
    if variant not in VARIANTS:
        raise SpecError(f"NCAP variant must be one of {VARIANTS}, got {variant!r}")
    if not isinstance(period, int) or period < 2 or period % 2:
        raise SpecError(f"NCAP oscillator period must be an even integer >= 2 (control steps), got {period!r}")
    if not isinstance(turn_joints, int) or isinstance(turn_joints, bool) or turn_joints < 1:
        raise SpecError(f"NCAP turn_joints must be a positive integer, got {turn_joints!r}")
    if oscillator not in OSCILLATORS:
        raise SpecError(f"NCAP oscillator must be one of {OSCILLATORS}, got {oscillator!r}")
    if oscillator == "clock":
        low, high = (2 * int(b) for b in HALF_PERIOD_BOUNDS)
        if variant != "spiking":
            raise SpecError("the NCAP clock oscillator (evolvable period) is spiking: use variant 'spiking'")
        if not low <= period <= high:
            raise SpecError(f"NCAP clock oscillator: the initial period must lie in [{low}, {high}], got {period}")


def joint_limit(n_links: int) -> float:
    """NCAP joint limit in rad, 2*pi / (n_joints + 1) = 2*pi / n_links."""
    return 2.0 * math.pi / n_links


def ncap_io(
    n_links: int,
    first_angle: int = 0,
    angles: Sequence[int] | None = None,
    rates: Sequence[int] | None = None,
    lead: float = 0.0,
) -> IOAdapters:
    """The swimmer adapters: observation indices first_angle .. first_angle + n_joints - 1, or `angles` (the
    n_joints indices of the joint angles, head to tail, rad) times 1 / joint_limit; with `rates` (the indices of
    the joint angular velocities, rad/s, same order) and `lead` (s) each angle is read `lead` seconds ahead,
    (angle + lead * angular velocity) / joint_limit (see `snncontrol.adapters`); action = the network's n_joints
    torques clipped to [-1, 1] (the plant's range, head to tail)."""
    _check_links(n_links)
    n_joints = n_links - 1
    indices = tuple(range(first_angle, first_angle + n_joints)) if angles is None else tuple(angles)
    if len(indices) != n_joints:
        raise SpecError(f"an NCAP for {n_links} links reads {n_joints} joint angles, got indices {list(indices)}")
    return IOAdapters(
        ObservationAdapter(
            "select", indices=indices, scale=(1.0 / joint_limit(n_links),), rates=tuple(rates or ()), lead=lead
        ),
        ActionAdapter("affine_clip", low=-1.0, high=1.0),
    )


def with_commands(x: np.ndarray, speed: float | np.ndarray | None = None, turn: Any = None) -> np.ndarray:
    """Append the optional command channels to adapted observations x [P, n_joints]: speed [P] or scalar in
    [0, 1] (1 full speed, 0 stopped, as the paper's reference code: the channel carries the brake 1 - speed that
    inhibits every B-neuron; values outside are clamped as there), turn (right, left) >= 0. Give exactly the
    channels the spec was built with."""
    x = np.asarray(x, dtype=np.float64)
    extra = []
    if speed is not None:
        brake = 1.0 - np.clip(np.asarray(speed, np.float64), 0.0, 1.0)
        extra.append(np.broadcast_to(brake, x.shape[:-1])[..., None])
    if turn is not None:
        turn = np.asarray(turn, np.float64)
        if turn.ndim == 0 or turn.shape[-1] != 2:
            raise SpecError(f"the turn command is (right, left) per copy, got shape {turn.shape}")
        extra.append(np.broadcast_to(turn, (*x.shape[:-1], 2)))
    return np.concatenate([x, *extra], axis=-1) if extra else x


@dataclass(frozen=True)
class Layout:
    """Neuron indices of the sensory layer for one body: joint pairs, oscillator (`ring`: its first neuron),
    commands."""

    n_joints: int
    period: int
    speed: bool
    turn: bool
    oscillator: str = "ring"

    @property
    def ring(self) -> int:
        return 2 * self.n_joints

    @property
    def oscillator_size(self) -> int:
        return self.period if self.oscillator == "ring" else len(CLOCK_UNITS)

    def unit(self, name: str) -> int:
        """Index of a clock oscillator unit (`CLOCK_UNITS`)."""
        return self.ring + CLOCK_UNITS.index(name)

    def oscillator_halves(self) -> tuple[list[int], list[int]]:
        """The sensory neurons that drive the dorsal and the ventral B-neuron of joint 0."""
        if self.oscillator == "clock":
            return [self.unit("dorsal")], [self.unit("ventral")]
        half = self.period // 2
        return list(range(self.ring, self.ring + half)), list(range(self.ring + half, self.ring + self.period))

    @property
    def speed_unit(self) -> int:
        return self.ring + self.oscillator_size

    @property
    def turn_units(self) -> int:
        return self.speed_unit + int(self.speed)

    @property
    def size(self) -> int:
        return self.turn_units + 2 * int(self.turn)

    @property
    def n_inputs(self) -> int:
        return self.n_joints + int(self.speed) + 2 * int(self.turn)


def shared_names(speed: bool = False, turn: bool = False) -> tuple[list[str], list[str]]:
    """Names of the shared weights of `bneuron.w_in` and `muscle.w_in`, in genome order."""
    bneuron = ["proprioceptive", "oscillator"] + ["speed"] * speed + ["turn"] * turn
    return bneuron, ["ipsilateral", "contralateral"]


def _sensory(lay: Layout, variant: str) -> Layer:
    n_j, n = lay.n_joints, lay.size
    tie = np.full((lay.n_inputs, n), -1, dtype=np.int64)
    coeff = np.zeros((lay.n_inputs, n))
    for j in range(n_j):
        tie[j, 2 * j] = tie[j, 2 * j + 1] = 0
        coeff[j, 2 * j], coeff[j, 2 * j + 1] = 1.0, -1.0
    command_inputs = list(range(n_j, lay.n_inputs))
    command_units = list(range(lay.speed_unit, n))
    for i, u in zip(command_inputs, command_units, strict=True):
        tie[i, u], coeff[i, u] = 0, 1.0
    rec_tie = np.full((n, n), -1, dtype=np.int64)
    rec_coeff = np.zeros((n, n))
    r, p = lay.ring, lay.oscillator_size
    bias = np.zeros(n)
    if lay.oscillator == "clock":
        for (src, dst), c in _clock_synapses().items():
            rec_tie[lay.unit(src), lay.unit(dst)], rec_coeff[lay.unit(src), lay.unit(dst)] = 0, c
        bias[lay.unit("starter")] = bias[lay.unit("clock")] = 1.0
    else:  # pacemaker ring: k -> k + 1 excitatory; 0 .. period - 2 -> 0 inhibitory (neuron 0 restarts the ring)
        for k in range(p - 1):
            rec_tie[r + k, r + k + 1], rec_coeff[r + k, r + k + 1] = 0, 1.0
            rec_tie[r + k, r], rec_coeff[r + k, r] = 0, -1.0
        bias[r] = 1.0
    fixed: dict[str, Any] = {"w_in": 1.0, "w_rec": 1.0, "bias": bias}
    evolved: dict[str, Any] = {}
    if lay.oscillator == "clock":  # the shared recurrent weight is the half period (control steps)
        del fixed["w_rec"]
        evolved = {"bounds": {"w_rec": HALF_PERIOD_BOUNDS}, "init": {"w_rec": [lay.period / 2]}}
    if variant == "graded":
        neuron: Graded | LIF = Graded()
    else:
        neuron = LIF(synaptic=False, reset="soft")
        decay = np.full(n, SPIKING.sensory_decay)
        theta = np.full(n, SPIKING.sensory_theta)
        decay[r : r + p], theta[r : r + p] = 0.0, SPIKING.ring_theta
        if lay.oscillator == "clock":  # the clock integrates its bias without leak and fires above 0
            decay[lay.unit("clock")], theta[lay.unit("clock")] = 1.0, 0.0
        fixed.update(decay_mem=decay, theta=theta)
    return Layer(
        "sensory",
        n,
        neuron,
        input=Connection(tie=tie, tie_coeff=coeff),
        recurrent=Connection(tie=rec_tie, tie_coeff=rec_coeff),
        bias=True,
        fixed=fixed,
        **evolved,
    )


def _clock_synapses() -> dict[tuple[str, str], float]:
    """(source, target) -> coefficient of the clock oscillator's synapses, each weighing coefficient x w (see
    the module doc): with integer coefficients and thresholds below w the gates' logic holds for any w >= 2."""
    return {
        ("clock", "clock"): -1.0,  # the clock's reset by w: one spike every w steps of bias 1
        ("dorsal", "starter"): -1.0,  # the starter stops once a half is on
        ("ventral", "starter"): -1.0,
        ("starter", "dorsal"): 1.0,  # ... after switching the dorsal half on
        ("dorsal", "dorsal"): 1.0,  # each half holds itself on
        ("ventral", "ventral"): 1.0,
        ("clock", "dorsal_off"): 1.0,  # dorsal_off = clock and not ventral (and not at the start)
        ("ventral", "dorsal_off"): -1.0,
        ("starter", "dorsal_off"): -1.0,
        ("clock", "ventral_off"): 1.0,  # ventral_off = clock and not dorsal
        ("dorsal", "ventral_off"): -1.0,
        ("starter", "ventral_off"): -1.0,
        ("dorsal_off", "dorsal"): -2.0,  # switch: the active half off, the other on
        ("dorsal_off", "ventral"): 1.0,
        ("ventral_off", "ventral"): -2.0,
        ("ventral_off", "dorsal"): 1.0,
    }


def _bneuron(lay: Layout, variant: str, turn_joints: int) -> Layer:
    n_j, n = lay.n_joints, 2 * lay.n_joints
    names, _ = shared_names(lay.speed, lay.turn)
    index = {name: k for k, name in enumerate(names)}
    tie = np.full((lay.size, n), -1, dtype=np.int64)
    sign = np.zeros((lay.size, n), dtype=np.int64)

    def connect(src: int, dst: int, name: str) -> None:
        tie[src, dst], sign[src, dst] = index[name], WEIGHT_SIGNS[name]

    for i in range(1, n_j):
        connect(2 * (i - 1), 2 * i, "proprioceptive")
        connect(2 * (i - 1) + 1, 2 * i + 1, "proprioceptive")
    for dst, sources in enumerate(lay.oscillator_halves()):
        for src in sources:
            connect(src, dst, "oscillator")
    if lay.speed:
        for dst in range(n):
            connect(lay.speed_unit, dst, "speed")
    if lay.turn:
        for i in range(min(turn_joints, n_j)):
            connect(lay.turn_units, 2 * i, "turn")
            connect(lay.turn_units + 1, 2 * i + 1, "turn")
    init = [float(WEIGHT_SIGNS[name]) for name in names]
    return _evolved_layer(
        "bneuron", n, variant, Connection(tie=tie, sign=sign), init, SPIKING.bneuron_decay, SPIKING.bneuron_theta
    )


def _muscle(n_joints: int, variant: str) -> Layer:
    n = 2 * n_joints
    tie = np.full((n, n), -1, dtype=np.int64)
    sign = np.zeros((n, n), dtype=np.int64)
    for i in range(n_joints):
        d, v = 2 * i, 2 * i + 1
        tie[d, d] = tie[v, v] = 0  # ipsilateral, excitatory
        sign[d, d] = sign[v, v] = 1
        tie[v, d] = tie[d, v] = 1  # contralateral, inhibitory
        sign[v, d] = sign[d, v] = -1
    return _evolved_layer(
        "muscle", n, variant, Connection(tie=tie, sign=sign), [1.0, -1.0], SPIKING.muscle_decay, SPIKING.muscle_theta
    )


def _evolved_layer(
    name: str, n: int, variant: str, conn: Connection, init: list[float], decay: float, theta: float
) -> Layer:
    kwargs: dict[str, Any] = {"input": conn, "bounds": {"w_in": WEIGHT_BOUNDS}, "init": {"w_in": init}}
    if variant == "graded":
        return Layer(name, n, Graded(), **kwargs)
    return Layer(name, n, LIF(synaptic=False, reset="soft"), fixed={"decay_mem": decay, "theta": theta}, **kwargs)


def _torque(n_joints: int, variant: str) -> Layer:
    tie = np.full((2 * n_joints, n_joints), -1, dtype=np.int64)
    coeff = np.zeros((2 * n_joints, n_joints))
    for i in range(n_joints):
        tie[2 * i, i] = tie[2 * i + 1, i] = 0
        coeff[2 * i, i], coeff[2 * i + 1, i] = 1.0, -1.0
    if variant == "graded":
        decay, gain = 0.0, 1.0
    else:
        decay, gain = SPIKING.readout_decay, SPIKING.readout_gain * (1.0 - SPIKING.readout_decay)
    return Layer(
        "torque",
        n_joints,
        LeakyIntegrator(),
        input=Connection(tie=tie, tie_coeff=coeff),
        fixed={"w_in": gain, "decay_mem": decay},
    )


def spec_name(
    n_links: int,
    variant: str,
    period: int = PERIOD,
    speed: bool = False,
    turn: bool = False,
    turn_joints: int = 1,
    oscillator: str = "ring",
) -> str:
    commands = ("_speed" if speed else "") + (f"_turn{turn_joints}" if turn else "")
    timing = f"period{period}" if oscillator == "ring" else f"clock{period}"
    return f"ncap_{variant}_{n_links}links_{timing}{commands}"


def ncap_options(spec: NetworkSpec) -> dict[str, Any]:
    """The `ncap_spec` keywords `spec` was built with (n_links, variant, period, speed, turn, turn_joints, and
    oscillator unless it is the ring), read from its metadata (`{"builder": "ncap", ...}`); one-line SpecError
    if it is not an NCAP network."""
    options = {key: value for key, value in spec.metadata.items() if key != "builder"}
    if spec.metadata.get("builder") != BUILDER or set(options) - {"oscillator"} != set(OPTION_NAMES):
        raise SpecError(f"{spec.name or 'this network'} is not an NCAP network (its spec has no NCAP metadata)")
    return options


def ncap_spec(
    n_links: int = 6,
    variant: str = "spiking",
    period: int = PERIOD,
    speed: bool = False,
    turn: bool = False,
    turn_joints: int = 1,
    dt: float = DT,
    oscillator: str = "ring",
) -> NetworkSpec:
    """The NCAP circuit for an `n_links` body (n_links - 1 joints) as a core `NetworkSpec` (see module doc);
    `oscillator="clock"`: the period is evolvable, `period` its initial value (control steps)."""
    _check(n_links, variant, period, turn_joints, oscillator, speed, turn)
    lay = Layout(n_links - 1, period, speed, turn, oscillator)
    layers = (
        _sensory(lay, variant),
        _bneuron(lay, variant, turn_joints),
        _muscle(lay.n_joints, variant),
        _torque(lay.n_joints, variant),
    )
    name = spec_name(n_links, variant, period, speed, turn, turn_joints, oscillator)
    metadata = {
        "builder": BUILDER,
        "n_links": n_links,
        "variant": variant,
        "period": period,
        "speed": bool(speed),
        "turn": bool(turn),
        "turn_joints": turn_joints,
        **({"oscillator": oscillator} if oscillator != "ring" else {}),
    }
    return NetworkSpec(n_inputs=lay.n_inputs, layers=layers, dt=dt, name=name, metadata=metadata)


def ncap_weights(spec: NetworkSpec, genome: Any) -> dict[str, float]:
    """The shared weights of an NCAP genome by name, as evolved (raw, before sign clamping)."""
    options = ncap_options(spec)
    values = spec.parameters.unflatten(_as_tensor(spec.parameters.check(genome)[:1]))
    b_names, m_names = shared_names(options["speed"], options["turn"])
    out = {name: float(values["bneuron.w_in"][0, k]) for k, name in enumerate(b_names)}
    out.update({name: float(values["muscle.w_in"][0, k]) for k, name in enumerate(m_names)})
    return out


def effective_weights(weights: dict[str, float]) -> dict[str, float]:
    """Shared weights after the E/I sign clamp the network applies (excitatory >= 0, inhibitory <= 0)."""
    return {k: max(v, 0.0) if WEIGHT_SIGNS[k] > 0 else min(v, 0.0) for k, v in weights.items()}


def ncap_period(spec: NetworkSpec, genome: Any) -> float:
    """The head oscillator's period in control steps (times `spec.dt` in s): the ring's `period`, or twice the
    evolved half period of the clock oscillator (its mean; see the module doc)."""
    options = ncap_options(spec)
    if options.get("oscillator", "ring") == "ring":
        return float(options["period"])
    values = spec.parameters.unflatten(_as_tensor(spec.parameters.check(genome)[:1]))
    return 2.0 * float(values["sensory.w_rec"][0, 0])


def ncap_genome(spec: NetworkSpec, weights: dict[str, float], period: float | None = None) -> np.ndarray:
    """The genome [D] of `spec` (any n_links) holding the named shared weights (missing names: paper init; each
    within WEIGHT_BOUNDS) and, for the clock oscillator, the period in control steps (None: the spec's initial
    one; within twice HALF_PERIOD_BOUNDS). A ring's period is fixed when the spec is built: `period` may only
    repeat it. One SpecError line for a weight this circuit does not have or a value it cannot hold."""
    options = ncap_options(spec)
    b_names, m_names = shared_names(options["speed"], options["turn"])
    unknown = set(weights) - set(b_names + m_names)
    if unknown:
        raise SpecError(f"NCAP weight(s) {sorted(unknown)} not in this circuit; it has {b_names + m_names}")
    value = {name: float(weights.get(name, WEIGHT_SIGNS[name])) for name in b_names + m_names}
    outside = {name: v for name, v in value.items() if not WEIGHT_BOUNDS[0] <= v <= WEIGHT_BOUNDS[1]}
    if outside:
        raise SpecError(f"NCAP weight(s) {outside} outside their bounds {list(WEIGHT_BOUNDS)}")
    values = {"bneuron.w_in": [value[n] for n in b_names], "muscle.w_in": [value[n] for n in m_names]}
    if options.get("oscillator", "ring") == "clock":
        half = (options["period"] if period is None else period) / 2.0
        if not HALF_PERIOD_BOUNDS[0] <= half <= HALF_PERIOD_BOUNDS[1]:
            raise SpecError(f"NCAP clock period {2 * half} outside [{2 * HALF_PERIOD_BOUNDS[0]}, "
                            f"{2 * HALF_PERIOD_BOUNDS[1]}] control steps")
        values["sensory.w_rec"] = [half]
    elif period is not None and period != options["period"]:
        raise SpecError(f"this NCAP's ring oscillator has the fixed period {options['period']} (ncap_spec(period=...) "
                        f"sets it), got period={period}")
    return spec.parameters.flatten(values)[0]


def paper_genome(spec: NetworkSpec) -> np.ndarray:
    """The paper's initialization (+1 excitatory, -1 inhibitory), i.e. `spec.parameters.initial()`."""
    return spec.parameters.initial()


def retarget(spec: NetworkSpec, genome: Any, n_links: int) -> tuple[NetworkSpec, np.ndarray, IOAdapters]:
    """The same evolved NCAP (same variant, period, command inputs and shared weights) for another body:
    `ncap_spec(n_links, ...)` with the shared weights (and an evolved period) mapped by name, and that body's
    adapters."""
    new_spec, genomes, io = retarget_population(spec, genome, n_links)
    return new_spec, genomes[0], io


def retarget_population(
    spec: NetworkSpec, genomes: Any, n_links: int
) -> tuple[NetworkSpec, np.ndarray, IOAdapters]:
    """`retarget` for a population: genomes [P, D] (or one [D]) of `spec` -> (the `n_links` body's spec, its
    genomes [P, D'], its adapters), to swim together in one batched call; the body's spec is built once."""
    options = ncap_options(spec)
    options["n_links"] = n_links
    new_spec = ncap_spec(**options, dt=spec.dt)
    rows = np.atleast_2d(np.asarray(genomes, dtype=np.float64))
    carried = [ncap_genome(new_spec, ncap_weights(spec, genome), ncap_period(spec, genome)) for genome in rows]
    return new_spec, np.stack(carried), ncap_io(n_links)


def _as_tensor(arr: np.ndarray):
    import torch

    return torch.as_tensor(arr)
