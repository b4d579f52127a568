"""The controller node's inputs between two ticks, apart from the node (no subscriptions, clocks or logging here):
the node hands over messages and node-clock times (ns), and asks for the observation at a tick.

Per input it keeps the latest reading as the tick uses it: its size checked (fixed by the input's type or the
adapter; an input of free size keeps the size it had at the first good tick, `hold_sizes`), lost samples (NaN,
+-inf, outside the adapter's valid range) as NaN, the time of its latest valid sample. Which elements the adapter
reads, and its valid range on them, follow from every input's size (`ranges`): of free sizes, the sizes of the
latest readings; a reading taken before each input has sent one is checked once they have. An element
the adapter does not read is never a lost sample (a non-finite one, e.g. the NaN velocity a joint-state broadcaster
sends for a position-only joint, is passed as 0). A stamped reading no newer
than its input's latest (re-sent by a hung driver, or out of order by up to `timeout_s`) is no new sample: its
input's age runs on, so a driver that repeats its last reading goes stale as a silent one does; stamps that go
back farther are a source that restarted its clock, taken once `RESTART_READINGS` readings in a row, each newer
than the one before, have come on that new time base over at least `timeout_s` with no reading of the old one in
between (a second publisher on the topic, e.g. a bag played beside the live driver, interleaves old stamps with
the live ones, which reset the count: never taken however fast it publishes). With a stamp tolerance (clocks
synchronized, e.g. by chrony or PTP), a reading stamped farther from the node clock than it, before or after, is
not taken. The set-point (when the node has
a set-point topic) is appended to the observation: the latest received, else `setpoint_default` when finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from snncontrol_ros import messages

#: what `Inputs.receive` made of a message: a new reading, a new one from a source that restarted its clock
#: (stamps back by more than timeout_s, RESTART_READINGS in a row over timeout_s), none yet from such a source
#: ("restarting"), or none (stamped no newer than the input's latest, or, with a stamp tolerance, stamped farther
#: from the node clock than it: "off_clock")
Receipt = Literal["new", "restarted", "restarting", "not_newer", "off_clock"]
#: readings in a row, each newer than the one before, that a source whose stamps went back must send to be taken
RESTART_READINGS = 3
#: distinct combinations of input sizes whose valid ranges are kept (before the first good tick holds the sizes)
MAX_CACHED_SIZES = 16


@dataclass
class Latest:
    """An input's latest reading: values (NaN where a sample was lost), the problem that makes the tick unsafe
    ('' for none), when it arrived and its stamp (ns), when its latest valid sample arrived (node clock, ns)."""

    values: np.ndarray
    problem: str
    recv_ns: int
    stamp_ns: int | None
    good_ns: int | None
    lost: bool
    #: checked against the adapter's valid range (False: taken before every input's size was known)
    checked: bool = True


@dataclass(frozen=True)
class ValidRange:
    """An input's valid samples: per element, read by the adapter (`read`) and valid in [low, high) there; a valid
    sample outside the observation bounds [bound_low, bound_high] (every element) is refused by the tick."""

    low: np.ndarray
    high: np.ndarray
    read: np.ndarray
    bound_low: np.ndarray = field(default_factory=lambda: np.array(-np.inf))
    bound_high: np.ndarray = field(default_factory=lambda: np.array(np.inf))


#: where the inputs' sizes do not fit the controller, or before they are known: every element read, any finite value
#: valid (one pair of comparisons rejects NaN and +-inf too)
ANY_FINITE = ValidRange(np.array(-np.finfo(np.float64).max), np.array(np.inf), np.array(True))


@dataclass
class Observation:
    """The observation at a tick (None until every input and the set-point have arrived), each input's age (s
    since its latest valid sample; None: none yet), the first problem ('' for none), and the lost samples the
    network's sample hold carries (None: none)."""

    values: np.ndarray | None
    ages: list[float | None]
    problem: str
    held: np.ndarray | None


class Inputs:
    """The latest readings of the inputs `kinds` (messages.INPUT_TYPES) named `names` (their resolved topics),
    `sizes` values each (None: free), valid as `ranges` says (every input's `ValidRange` given every input's size;
    None where those sizes do not fit the controller), held through lost samples where `hold` (else a lost sample is
    a problem at once); the set-point, where `has_setpoint`, is appended last."""

    def __init__(
        self, names: list[str], kinds: list[str], sizes: list[int | None],
        ranges: Callable[[tuple[int, ...]], list[ValidRange] | None], hold: list[bool], joint_names: list[str],
        timeout_s: float, has_setpoint: bool, setpoint_default: float, stamp_tolerance_s: float = 0.0,
    ) -> None:
        self.names, self.kinds, self.sizes, self.hold = names, kinds, sizes, hold
        self._ranges, self._ranges_of_sizes = ranges, {}  # the latter a cache: sizes -> ranges
        self.joint_names, self.timeout_s = joint_names, timeout_s
        self.stamp_tolerance_ns = round(stamp_tolerance_s * 1e9)  # 0: stamps not compared with the node clock
        self.has_setpoint, self.setpoint_default = has_setpoint, setpoint_default
        self.latest: list[Latest | None] = [None] * len(kinds)
        self.held_sizes: list[int | None] = list(sizes)  # free sizes (None) held after a good tick
        self.setpoint: float | None = None  # the latest received
        #: per joint_state input without `joint_names`: the joint names of its first good named message, in whose
        #: order its later messages are read
        self.learned_joints: list[list[str]] = [[] for _ in kinds]
        #: per input, (latest stamp ns, count, first arrival ns) of the readings in a row on a time base that went
        #: back, not taken yet
        self.restarting: list[tuple[int, int, int] | None] = [None] * len(kinds)

    def receive(self, index: int, msg: object, now: int) -> tuple[Receipt, float]:
        """Take input `index`'s message `msg` received at `now` (ns) where it is a new reading; returns what it
        was and how far its stamp went back (s; 0 where it did not; off_clock: how far it lies before `now`)."""
        latest, stamp = self.latest[index], messages.stamp_ns(msg)
        if self.stamp_tolerance_ns and stamp is not None and abs(now - stamp) > self.stamp_tolerance_ns:
            return "off_clock", (now - stamp) * 1e-9  # (not the latest: a glitched future stamp blocks no later one)
        back_s = 0.0  # how far the stamp went back
        if latest is not None and latest.stamp_ns is not None and stamp is not None:
            back_s = (latest.stamp_ns - stamp) * 1e-9
            if 0 <= back_s <= self.timeout_s:
                return "not_newer", back_s
            if back_s > 0:
                before = self.restarting[index]
                count, since = (before[1] + 1, before[2]) if before is not None and stamp > before[0] else (1, now)
                if count < RESTART_READINGS or (now - since) * 1e-9 < self.timeout_s:
                    self.restarting[index] = (stamp, count, since)
                    return "restarting", back_s
        self.restarting[index] = None
        self.latest[index] = self._read(index, msg, now, stamp)
        return ("restarted", back_s) if back_s > 0 else ("new", 0.0)

    def _read(self, index: int, msg: object, now: int, stamp: int | None) -> Latest:
        """A message as the tick uses it: wrong sizes and message problems named by topic, lost samples as NaN
        (a problem too where the input does not hold), the time of the latest valid sample."""
        name = self.names[index]
        values, problem = messages.to_vector(self.kinds[index], msg, self.joint_names or self.learned_joints[index])
        if not (problem or self.joint_names or self.learned_joints[index]) and self.kinds[index] == "joint_state":
            self.learned_joints[index] = list(msg.name)  # (empty: an unnamed state, read by place)
        expected = self.held_sizes[index]
        if problem or (expected is not None and values.size != expected):
            because = "" if self.sizes[index] else " (the size it had when control was first good)"
            problem = f"{name}: {problem or f'{values.size} value(s), expected {expected}{because}'}"
            previous = self.latest[index]  # no valid sample: the age runs on from the latest one
            return Latest(values, problem, now, stamp, None if previous is None else previous.good_ns, False)
        return self._validated(index, values, now, stamp)

    def _validated(self, index: int, values: np.ndarray, now: int, stamp: int | None, recheck: bool = False) -> Latest:
        """Input `index`'s reading `values`, received at `now`, with its lost samples marked: NaN where an element
        the adapter reads lies outside its valid range, 0 where one it does not read is not finite. A reading
        without a lost sample is a valid one (its arrival the input's latest valid sample) unless a value lies
        outside the observation bounds, which the tick refuses; otherwise the time of the latest valid sample
        carries over from the input's latest reading (not for a `recheck`, a reading checked late: no reading
        before it is known to be valid). (A refused reading renewed it: one among lost samples every 0.2 s kept
        the network stepping on a held altitude for as long as they came.)"""
        where = self.valid_range(index, values.size)
        checked = where is not None
        where = ANY_FINITE if where is None else where
        valid = ~where.read | ((values >= where.low) & (values < where.high))
        values = np.where(where.read | np.isfinite(values), values, 0.0)
        previous = None if recheck else self._checked(index)
        if valid.all():
            if ((values >= where.bound_low) & (values <= where.bound_high)).all():
                return Latest(values, "", now, stamp, now, False, checked)
            return Latest(values, "", now, stamp, None if previous is None else previous.good_ns, False, checked)
        lost = ~valid
        name = self.names[index]
        problem = "" if self.hold[index] else f"{name}: lost sample ({values[lost][0]:.4g}: no valid value)"
        good_ns = previous.good_ns if previous is not None else None
        return Latest(np.where(lost, np.nan, values), problem, now, stamp, good_ns, True, checked)

    def _checked(self, index: int) -> Latest | None:
        """Input `index`'s latest reading, checked against the adapter's valid range once every input's size is
        known (a reading taken before could not be: a value out of range then would count as valid for good)."""
        item = self.latest[index]
        if item is not None and not item.checked:
            item = self._validated(index, item.values, item.recv_ns, item.stamp_ns, recheck=True)
            self.latest[index] = item
        return item

    def valid_range(self, index: int, size: int) -> ValidRange | None:
        """Input `index`'s valid range for a reading of `size` values, given the other inputs' sizes (held, or of
        their latest readings): None until each has sent one (where this input sits in the observation is not
        known yet), ANY_FINITE where the sizes do not fit the controller (the tick says why)."""
        sizes = [size if i == index else held if held is not None else None if item is None else item.values.size
                 for i, (held, item) in enumerate(zip(self.held_sizes, self.latest, strict=True))]
        if None in sizes:
            return None
        key = tuple(sizes)
        if key not in self._ranges_of_sizes:
            if len(self._ranges_of_sizes) >= MAX_CACHED_SIZES:  # a publisher that keeps changing its sizes
                self._ranges_of_sizes.clear()
            self._ranges_of_sizes[key] = self._ranges(key)  # type: ignore[arg-type]
        ranges = self._ranges_of_sizes[key]
        return ANY_FINITE if ranges is None else ranges[index]

    def drop(self) -> None:
        """Forget every reading (the node clock jumped back: none may look younger than it is)."""
        self.latest = [None] * len(self.latest)
        self.restarting = [None] * len(self.latest)

    def observation(self, now: int) -> Observation:
        """The observation at node-clock time `now` (ns)."""
        ages: list[float | None] = []
        parts, problem, lost = [], "", False
        for index in range(len(self.latest)):
            item = self._checked(index)
            if item is None:
                ages.append(None)
                continue
            ages.append(None if item.good_ns is None else (now - item.good_ns) * 1e-9)
            parts.append(item.values)
            problem = problem or item.problem
            lost = lost or item.lost
        if len(parts) < len(self.latest):
            return Observation(None, ages, "", None)
        if self.has_setpoint:
            if self.setpoint is None and not math.isfinite(self.setpoint_default):
                ages.append(None)  # no set-point yet
                return Observation(None, ages, "", None)
            parts.append(np.array([self.setpoint if self.setpoint is not None else self.setpoint_default]))
        obs = parts[0] if len(parts) == 1 else np.concatenate(parts)
        held = None
        if lost:  # the inputs' NaN (the set-point's own NaN is bad input, not a lost sample)
            held = np.isnan(obs)
            if self.has_setpoint:
                held[-1] = False
        return Observation(obs, ages, problem, held)

    def hold_sizes(self) -> list[tuple[str, int]]:
        """After the first good tick, each input of free size keeps the size it had then (a joint-state publisher
        that lost a joint would shift every value after it); returns (name, size) of those newly held."""
        newly = []
        for index, item in enumerate(self.latest):
            if self.held_sizes[index] is None and item is not None:
                self.held_sizes[index] = item.values.size
                newly.append((self.names[index], item.values.size))
        return newly
