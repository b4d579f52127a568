"""Users' own altitude-control recordings as mimicry datasets: a CSV file or a ROS 2 bag (mcap or sqlite3, read
with `rosbags`: no ROS install needed).

A recording is resampled to the control step dt (s) by holding the latest sample (zero-order hold, as a
controller sees its inputs), from the first instant at which every signal has a sample. Signals:
- altitude (m), set-point (m): the input of the SNNs is set-point - altitude;
- command (the thrust unit's units), optional: the target when mimicking the recorded controller itself.

CSV: a header line (a UTF-8 byte order mark before it is ignored), then one row per sample, comma separated.
Columns `time` (s, increasing), `altitude` (m), `setpoint` (m) and optionally `command`; other columns are
ignored. Empty or non-numeric cells are errors, except an empty altitude (a dropout), which holds the previous one.
Rows 1 s and `SPARSE_STEPS` control steps apart or more (median) are refused: no flight a controller stepping every
dt s can learn from, and the mark of a log timed in ms.

Bag: topics given by name; message types `sensor_msgs/msg/Range` (range), `std_msgs/msg/Float64` (data),
`std_msgs/msg/Float64MultiArray` (data[0]), `geometry_msgs/msg/PoseStamped` (pose.position.z) or
`geometry_msgs/msg/PointStamped` (point.z). Times are the bag's receive stamps. The topics the blimp-in-simulation
graph records (`/altitude`, `/setpoint`, `/thrust_command`) are the defaults. A lost return (a non-finite
altitude, or a Range reading outside [min_range, max_range), as a TFmini-S reports it at its maximum range)
holds the previous reading.

Bounds: times are finite; a signal value beyond +-`MAX_VALUE` (m, or command units) is refused (no blimp
flies there, and its targets would overflow); a recording resampled to more than `MAX_STEPS` steps (e.g. a
last time of 1e12 s, or a dt of 1e-9 s) is refused before anything is allocated.

Every problem (missing file, column or topic; a bad cell; a value out of bounds; a recording shorter than one
sequence) is one `RecordingError` line naming it.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from snncontrol.arguments import plain_number
from snncontrol.errors import SnnControlError

CSV_COLUMNS = ("time", "altitude", "setpoint")
MAX_VALUE = 1e6  # m (altitude, set-point) or command units
MAX_STEPS = 10_000_000  # resampled steps per recording: 11.6 days at dt = 0.1 s, 80 MB per signal
SPARSE_STEPS = 10  # a CSV whose rows lie this many control steps apart (median) or more is refused


def _range(msg: object) -> float:
    """A Range reading, NaN where REP 117 says there is none: outside [min_range, max_range) (a TFmini-S reports
    a lost return as its maximum range) or non-finite."""
    value, low, high = float(msg.range), float(msg.min_range), float(msg.max_range)  # type: ignore[attr-defined]
    return value if high <= low or low <= value < high else float("nan")


SCALAR_FIELDS = {
    "sensor_msgs/msg/Range": _range,
    "std_msgs/msg/Float64": lambda msg: msg.data,
    "std_msgs/msg/Float64MultiArray": lambda msg: msg.data[0] if len(msg.data) else float("nan"),
    "geometry_msgs/msg/PoseStamped": lambda msg: msg.pose.position.z,
    "geometry_msgs/msg/PointStamped": lambda msg: msg.point.z,
}


class RecordingError(SnnControlError):
    """A recording that cannot be read or used; the message is one line naming the problem."""


@dataclass(frozen=True)
class Recording:
    """Signals resampled every dt s: altitude, setpoint (m), command (units, or None), all [T]."""

    source: str
    dt: float
    altitude: np.ndarray
    setpoint: np.ndarray
    command: np.ndarray | None

    @property
    def error(self) -> np.ndarray:
        """set-point - altitude (m), [T]."""
        return self.setpoint - self.altitude


def _hold_nonfinite(values: np.ndarray) -> np.ndarray:
    """Non-finite entries replaced by the latest finite one before them (dropped readings)."""
    index = np.where(np.isfinite(values), np.arange(len(values)), -1)
    index = np.maximum.accumulate(index)
    return np.where(index >= 0, values[np.maximum(index, 0)], np.nan)


def resample(
    source: str, dt: float, signals: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, np.ndarray]:
    """Zero-order hold of each (times s, values) signal onto a grid of step dt from the latest first sample to the
    earliest last sample of the sampled signals: the set-point is an event (a latched topic publishes it once per
    change), held after its last change to the end of the others."""
    if not (math.isfinite(dt) and dt > 0):
        raise RecordingError(f"{source}: dt must be a finite number > 0 (s), got {dt}")
    start = max(float(times[0]) for times, _ in signals.values())
    end = min(float(times[-1]) for name, (times, _) in signals.items() if name != "setpoint" or len(signals) == 1)
    steps = (end - start) / dt
    if steps < 0:
        raise RecordingError(f"{source}: its signals do not overlap in time (every one begins by {start:g} s, one "
                             f"ends at {end:g} s)")
    if not steps <= MAX_STEPS:
        raise RecordingError(f"{source}: {end - start:g} s at dt {dt:g} s is over {MAX_STEPS} steps")
    grid = start + dt * np.arange(int(np.floor(steps + 1e-9)) + 1)
    out = {}
    for name, (times, values) in signals.items():
        if np.any(np.diff(times) < 0):
            raise RecordingError(f"{source}: {name} samples are not in time order")
        out[name] = values[np.searchsorted(times, grid, side="right") - 1]
    return out


def _recording(source: str, dt: float, signals: dict[str, tuple[np.ndarray, np.ndarray]]) -> Recording:
    for name, (times, values) in signals.items():
        if len(times) == 0:
            raise RecordingError(f"{source}: no {name} samples")
        if not np.isfinite(times).all():
            raise RecordingError(f"{source}: {name} samples at non-finite times")
        if name != "altitude" and not np.isfinite(values).all():
            raise RecordingError(f"{source}: non-finite {name} values")
        if np.any(np.abs(values[np.isfinite(values)]) > MAX_VALUE):  # an infinite altitude is a lost return
            raise RecordingError(f"{source}: {name} values beyond +-{MAX_VALUE:g}")
    times, altitude = signals["altitude"]
    held = _hold_nonfinite(altitude)
    if np.isnan(held).all():
        raise RecordingError(f"{source}: no finite altitude reading")
    first = int(np.flatnonzero(np.isfinite(held))[0])
    signals = {**signals, "altitude": (times[first:], held[first:])}
    grid = resample(source, dt, signals)
    return Recording(source, dt, grid["altitude"], grid["setpoint"], grid.get("command"))


def load_csv(path: str | Path, dt: float = 0.1) -> Recording:
    """A CSV recording (see the module docstring), resampled every dt s."""
    path = Path(path)
    if not path.is_file():
        raise RecordingError(f"{path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RecordingError(f"{path}: not a readable CSV file ({type(exc).__name__})") from None
    if not rows:
        raise RecordingError(f"{path}: empty file")
    header = [name.strip() for name in rows[0]]
    missing = [name for name in CSV_COLUMNS if name not in header]
    if missing:
        raise RecordingError(f"{path}: missing column(s) {', '.join(missing)} (header: {', '.join(header)})")
    wanted = [*CSV_COLUMNS, *(["command"] if "command" in header else [])]
    columns: dict[str, list[float]] = {name: [] for name in wanted}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        for name in wanted:
            cell = row[header.index(name)].strip() if header.index(name) < len(row) else ""
            if cell == "" and name == "altitude":
                columns[name].append(float("nan"))
                continue
            try:
                columns[name].append(plain_number(cell))  # (float() took 0_5 as 5.0)
            except ValueError:
                raise RecordingError(f"{path}: line {line}: {name} {cell!r} is not a number") from None
    times = np.asarray(columns.pop("time"))
    if len(times) < 2 or not np.all(np.diff(times) > 0):
        raise RecordingError(f"{path}: time must increase from row to row (at least 2 rows)")
    gap = float(np.median(np.diff(times)))
    if math.isfinite(dt) and dt > 0 and gap >= max(SPARSE_STEPS * dt, 1.0):  # (before resampling: a long log in ms
        # is huge; rows under 1 s apart with a tiny dt are a dt problem, which resampling names)
        raise RecordingError(f"{path}: its rows are {gap:g} s apart (median), {SPARSE_STEPS} or more control steps "
                             f"of {dt:g} s: is time in ms? (the time column is in s)")
    return _recording(str(path), dt, {name: (times, np.asarray(values)) for name, values in columns.items()})


def load_bag(
    path: str | Path,
    altitude_topic: str = "/altitude",
    setpoint_topic: str = "/setpoint",
    command_topic: str | None = "/thrust_command",
    dt: float = 0.1,
) -> Recording:
    """A ROS 2 bag recording (see the module docstring), resampled every dt s."""
    from rosbags.typesys import Stores, get_typestore

    from snncontrol.bags import open_bag

    path = Path(path)
    if not path.exists():
        raise RecordingError(f"{path}: no such bag")
    reader = open_bag(path, RecordingError)
    store = get_typestore(Stores.LATEST)
    topics = {"altitude": altitude_topic, "setpoint": setpoint_topic}
    if command_topic:
        topics["command"] = command_topic
    try:
        signals = {name: _topic(reader, store, topic, path) for name, topic in topics.items()}
    finally:
        reader.close()
    return _recording(str(path), dt, signals)


def _topic(reader: object, store: object, topic: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(receive times s, values) of one scalar topic."""
    from snncontrol.bags import deserialize, topic_connections

    conns = topic_connections(reader, topic, path, tuple(SCALAR_FIELDS), RecordingError)  # type: ignore[arg-type]
    field = SCALAR_FIELDS[conns[0].msgtype]
    times, values = [], []
    for k, (conn, stamp, raw) in enumerate(reader.messages(connections=conns)):  # type: ignore[attr-defined]
        times.append(stamp * 1e-9)
        values.append(float(field(deserialize(store, raw, conn.msgtype, k, topic, path, RecordingError))))
    return np.asarray(times), np.asarray(values)


def recordings_dataset(
    recordings: Sequence[Recording], target: str, train_s: float, test_s: float
) -> dict[str, np.ndarray]:
    """Mimicry arrays from recordings: the last `test_s` s of the last recording is the test sequence; the rest
    of every recording is cut into training sequences of `train_s` s (a remainder shorter than that is
    dropped). `target`: "recorded" (the recorded command), "pd" or "i" (the reference controllers)."""
    from snncontrol.controllers.pid import I_TARGET, PD_TARGET, pid_rollout

    if not recordings:
        raise RecordingError("no recordings given")
    dt = recordings[0].dt
    train_len, test_len = round(train_s / dt), round(test_s / dt)
    if train_len < 2 or test_len < 2:
        raise RecordingError(f"train and test sequences must hold at least 2 steps of {dt} s")

    def targets(rec: Recording) -> np.ndarray:
        if target == "recorded":
            if rec.command is None:
                raise RecordingError(f"{rec.source}: has no command to mimic (give a command column or topic)")
            return rec.command
        gains = {"pd": PD_TARGET, "i": I_TARGET}.get(target)
        if gains is None:
            raise RecordingError(f"target must be 'recorded', 'pd' or 'i', got {target!r}")
        # the controller at the recordings' step: the same gains per second and the same filter time constant
        # (the targets were the 0.1 s controller's whatever dt the recordings were resampled at)
        at_dt = replace(gains, dt=dt, derivative_filter=gains.derivative_filter ** (dt / gains.dt))
        return pid_rollout(at_dt, rec.error)

    last = recordings[-1]
    if len(last.error) < test_len:
        raise RecordingError(f"{last.source}: {len(last.error) * dt:g} s recorded, shorter than the {test_s:g} s test")
    pieces = [(rec.error, targets(rec)) for rec in recordings]
    *head, (last_error, last_target) = pieces
    train_pieces = [*head, (last_error[:-test_len], last_target[:-test_len])]
    train = [
        (error[k : k + train_len], u[k : k + train_len])
        for error, u in train_pieces
        for k in range(0, len(error) - train_len + 1, train_len)
    ]
    if not train:
        raise RecordingError(f"the recordings hold no {train_s:g} s training sequence besides the test part")
    return {
        "train_inputs": np.stack([e for e, _ in train])[..., None],
        "train_targets": np.stack([u for _, u in train])[..., None],
        "test_inputs": last_error[-test_len:][None, :, None],
        "test_targets": last_target[-test_len:][None, :, None],
    }
