"""Blimp mimicry datasets: simulated (deterministic per seed) and users' own recordings (CSV, ROS 2 bag)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore

from snncontrol.controllers.blimp.recordings import RecordingError, load_bag, load_csv, recordings_dataset
from snncontrol.controllers.pid import pid_rollout
from snncontrol.evaluation.blimp_datasets import (
    I_TARGET,
    PD_TARGET,
    double_integrator_errors,
    i_mimicry_dataset,
    pd_mimicry_dataset,
)


def test_simulated_datasets_are_deterministic_per_seed() -> None:
    pd = pd_mimicry_dataset(3, n_train=2, train_s=4.0, test_s=6.0)
    assert pd["train_inputs"].shape == (2, 40, 1) and pd["test_inputs"].shape == (1, 60, 1)
    for make in (pd_mimicry_dataset, i_mimicry_dataset):
        a, b, other = make(3, 2, 4.0, 6.0), make(3, 2, 4.0, 6.0), make(4, 2, 4.0, 6.0)
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
        assert not np.array_equal(a["train_inputs"], other["train_inputs"])
    np.testing.assert_array_equal(pd["train_targets"][0, :, 0], pid_rollout(PD_TARGET, pd["train_inputs"][0, :, 0]))


def test_the_double_integrator_flights_hold_each_step_against_its_bias() -> None:
    errors = double_integrator_errors(np.random.default_rng(0), 8, 250.0)  # 5 steps of 50 s, bias redrawn
    settled = np.abs(errors.reshape(8, 5, 500)[:, :, -100:]).mean()  # last 10 s of every step
    assert settled < 0.03  # the integrator of the flying controller cancels b ~ U(-4, 4)
    targets = pid_rollout(I_TARGET, errors.T).T
    assert np.abs(targets).max() == pytest.approx(3.3)  # the I target spans the command range
    assert np.ptp(targets[:, 499]) > 2.0  # and differs from flight to flight with the bias


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("time,altitude,setpoint,command,battery\n" + "\n".join(rows) + "\n")
    return path


def _flight(n: int = 400) -> tuple[np.ndarray, ...]:
    t = np.arange(n) * 0.05 + 0.013 * np.sin(np.arange(n))  # 20 Hz with jitter
    altitude = 1.0 + 0.2 * np.sin(0.3 * t)
    setpoint = np.where(t < 10.0, 1.0, 1.2)
    command = 0.4 + 0.1 * np.cos(t)
    return t, altitude, setpoint, command


def test_a_csv_recording_is_resampled_by_holding_the_latest_sample(tmp_path: Path) -> None:
    t, altitude, setpoint, command = _flight()
    rows = [f"{a},{b},{c},{d},12.1" for a, b, c, d in zip(t, altitude, setpoint, command, strict=True)]
    rows[30] = f"{t[30]},,{setpoint[30]},{command[30]},12.1"  # a dropout holds the previous altitude
    rec = load_csv(_csv(tmp_path / "flight.csv", rows), dt=0.1)
    grid = t[0] + 0.1 * np.arange(len(rec.altitude))
    latest = np.searchsorted(t, grid, side="right") - 1
    expected = altitude.copy()
    expected[30] = altitude[29]
    np.testing.assert_allclose(rec.altitude, expected[latest])
    np.testing.assert_allclose(rec.command, command[latest])
    data = recordings_dataset([rec, rec], "recorded", train_s=5.0, test_s=4.0)
    steps = len(rec.altitude)  # windows of 50 steps: the whole first flight, the second less its last 4 s (test)
    assert data["train_inputs"].shape == (steps // 50 + (steps - 40) // 50, 50, 1)
    np.testing.assert_allclose(data["test_targets"][0, :, 0], rec.command[-40:])
    pd = recordings_dataset([rec], "pd", train_s=5.0, test_s=4.0)
    np.testing.assert_allclose(pd["test_targets"][0, :, 0], pid_rollout(PD_TARGET, rec.error)[-40:])


def _message(store: object, kind: str, altitude: float, setpoint: float, command: float) -> bytes:
    t_ = store.types  # type: ignore[attr-defined]
    header = t_["std_msgs/msg/Header"](stamp=t_["builtin_interfaces/msg/Time"](sec=0, nanosec=0), frame_id="")
    message = {
        "sensor_msgs/msg/Range": lambda: t_[kind](header=header, radiation_type=1, field_of_view=0.04,
                                                  min_range=0.1, max_range=12.0, range=np.float32(altitude),
                                                  variance=0.0),
        "std_msgs/msg/Float64": lambda: t_[kind](data=setpoint),
        "std_msgs/msg/Float64MultiArray": lambda: t_[kind](
            layout=t_["std_msgs/msg/MultiArrayLayout"](dim=[], data_offset=0), data=np.array([command])),
        "std_msgs/msg/String": lambda: t_[kind](data="ok"),
    }[kind]()
    return store.serialize_cdr(message, kind)  # type: ignore[attr-defined]


def _bag(path: Path, topics: dict[str, str], lost: tuple[int, ...] = (), latched: bool = False) -> Path:
    """The `_flight` recording in an mcap bag, one message per topic per sample, 1 s after the bag's start; the
    Range readings of samples `lost` are lost returns (reported at the 12 m maximum range). `latched`: the
    set-point only when it changes, as the project's set-point publishers send it."""
    store = get_typestore(Stores.LATEST)
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conns = {name: writer.add_connection(name, kind, typestore=store) for name, kind in topics.items()}
        previous = None
        for k, (t, altitude, setpoint, command) in enumerate(zip(*_flight(), strict=True)):
            altitude = 12.0 if k in lost else altitude
            for name, kind in topics.items():
                if latched and name == "/setpoint" and setpoint == previous:
                    continue
                data = _message(store, kind, float(altitude), float(setpoint), float(command))
                writer.write(conns[name], round(t * 1e9) + 10**9, data)
            previous = setpoint
    return path


BLIMP_TOPICS = {"/altitude": "sensor_msgs/msg/Range", "/setpoint": "std_msgs/msg/Float64",
                "/thrust_command": "std_msgs/msg/Float64MultiArray"}


def test_a_ros2_bag_recording_loads_like_the_same_csv(tmp_path: Path) -> None:
    bag = load_bag(_bag(tmp_path / "flight_bag", BLIMP_TOPICS, lost=(30, 31)), dt=0.1)
    t, altitude, setpoint, command = _flight()
    rows = [f"{a + 1.0},{b},{c},{d},0" for a, b, c, d in zip(t, altitude, setpoint, command, strict=True)]
    for k in (30, 31):  # the lost returns of the bag are the empty altitude cells of the CSV
        rows[k] = f"{t[k] + 1.0},,{setpoint[k]},{command[k]},0"
    csv = load_csv(_csv(tmp_path / "same.csv", rows), dt=0.1)
    np.testing.assert_allclose(bag.altitude, csv.altitude, atol=1e-6)  # Range is float32
    np.testing.assert_allclose(bag.setpoint, csv.setpoint)
    np.testing.assert_allclose(bag.command, csv.command)


def test_a_latched_set_point_is_held_to_the_end_of_the_recording(tmp_path: Path) -> None:
    """The set-point topic publishes once per change: the recording ended at its last change (a 20 s flight
    recorded by snncontrol-ros-sim-blimp loaded as 0.1 s)."""
    every = load_bag(_bag(tmp_path / "every", BLIMP_TOPICS), dt=0.1)
    latched = load_bag(_bag(tmp_path / "latched", BLIMP_TOPICS, latched=True), dt=0.1)
    assert len(latched.altitude) == len(every.altitude) > 190  # 20 s at 0.1 s
    np.testing.assert_array_equal(latched.setpoint, every.setpoint)
    np.testing.assert_array_equal(latched.altitude, every.altitude)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["0,1.0,1.0,0,0", "0.1,abc,1.0,0,0"], r"line 3: altitude 'abc' is not a number"),
        (["0,1.0,1.0,0,0", "0.1,0_5,1.0,0,0"], r"line 3: altitude '0_5' is not a number"),  # float() read 5.0
        (["0,1.0,1.0,0,0", "0,1.0,1.0,0,0"], "time must increase"),
        ([], "time must increase"),
    ],
)
def test_bad_csv_files_give_one_line(tmp_path: Path, rows: list[str], message: str) -> None:
    with pytest.raises(RecordingError, match=message) as info:
        load_csv(_csv(tmp_path / "bad.csv", rows))
    assert "\n" not in str(info.value)


def test_a_csv_timed_in_ms_is_refused_naming_the_likely_unit(tmp_path: Path) -> None:
    """A 20 Hz log timed in ms (rows about 50 apart) was read as a flight of 50 s per row, each held for 500 steps."""
    t, altitude, setpoint, command = _flight()
    rows = [f"{1000 * a},{b},{c},{d},12.1" for a, b, c, d in zip(t, altitude, setpoint, command, strict=True)]
    with pytest.raises(RecordingError, match=r"rows are [0-9.]+ s apart \(median\), 10 or more control steps of 0.1 s: "
                       r"is time in ms\?"):
        load_csv(_csv(tmp_path / "ms.csv", rows), dt=0.1)
    assert len(load_csv(_csv(tmp_path / "s.csv", rows), dt=10.0).altitude) > 1  # 5 steps of 10 s apart: read
    slow = [f"{0.9 * k},1.0,1.0,0,0" for k in range(30)]  # 0.9 s apart, 9 steps of 0.1 s: a slow log, still read
    assert len(load_csv(_csv(tmp_path / "slow.csv", slow), dt=0.1).altitude) == 262
    long_ms = [f"{50 * k},1.0,1.0,0,0" for k in range(36_000)]  # 30 min at 20 Hz in ms: 1.8e7 steps of 0.1 s
    with pytest.raises(RecordingError, match=r"rows are 50 s apart"):  # (said "over 10000000 steps", after work)
        load_csv(_csv(tmp_path / "long.csv", long_ms), dt=0.1)


def test_missing_columns_topics_and_files_give_one_line(tmp_path: Path) -> None:
    (tmp_path / "cols.csv").write_text("t,alt\n0,1\n")
    with pytest.raises(RecordingError, match=r"missing column.*time, altitude, setpoint"):
        load_csv(tmp_path / "cols.csv")
    with pytest.raises(RecordingError, match="no such file"):
        load_csv(tmp_path / "nope.csv")
    bag = _bag(tmp_path / "bag", {"/altitude": "sensor_msgs/msg/Range", "/setpoint": "std_msgs/msg/Float64",
                                  "/status": "std_msgs/msg/String"})
    with pytest.raises(RecordingError, match=r"no topic /thrust_command \(topics: /altitude, /setpoint, /status\)"):
        load_bag(bag)
    with pytest.raises(RecordingError, match=r"topic /status in bag .* is std_msgs/msg/String, expected one of"):
        load_bag(bag, command_topic="/status")
    (tmp_path / "junk").mkdir()
    with pytest.raises(RecordingError, match="cannot open bag"):
        load_bag(tmp_path / "junk")
    from snncontrol.controllers.blimp.recordings import resample

    apart = {"altitude": (np.array([0.0, 1.0]), np.ones(2)), "command": (np.array([2.0, 3.0]), np.zeros(2))}
    with pytest.raises(RecordingError, match="do not overlap in time"):  # (an empty recording before)
        resample("r", 0.1, apart)


def test_a_bag_message_cut_short_is_one_line_naming_message_topic_and_bag(tmp_path: Path) -> None:
    """A recording whose disk filled up ends in a truncated message: rosbags' SerdeError was a stack dump."""
    store = get_typestore(Stores.LATEST)
    with Writer(tmp_path / "cut", version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conns = {name: writer.add_connection(name, kind, typestore=store) for name, kind in BLIMP_TOPICS.items()}
        for k in range(3):
            for name, kind in BLIMP_TOPICS.items():
                raw = _message(store, kind, 1.0, 1.0, 0.5)
                writer.write(conns[name], 10**9 + k * 10**8, raw[:6] if (name, k) == ("/setpoint", 2) else raw)
    with pytest.raises(RecordingError, match=r"^cannot read message #2 on /setpoint in bag .*cut: ") as info:
        load_bag(tmp_path / "cut")
    assert "\n" not in str(info.value)


def test_the_cli_reports_a_bad_recording_in_one_line(tmp_path: Path) -> None:
    bad = _csv(tmp_path / "bad.csv", ["0,1.0,1.0,0,0", "0.1,x,1.0,0,0"])
    result = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "blimp-dataset", str(tmp_path / "out.npz"), "--csv", str(bad)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "line 3" in result.stderr
    assert not (tmp_path / "out.npz").exists()


def test_the_pd_target_is_the_same_controller_whatever_step_the_recordings_are_resampled_at(tmp_path: Path) -> None:
    """The reference PD ran with its 0.1 s step on recordings resampled every 0.05 s: its derivative, (e - e') /
    0.1 over 0.05 s, came out halved (0.316 against 0.378 at the same instants)."""
    t = np.arange(1200) * 0.025
    altitude = 0.5 + 0.02 * t  # a steady climb: error falling at 2 cm/s
    rows = [f"{a},{b},1.5,0.5,12" for a, b in zip(t, altitude, strict=True)]
    path = _csv(tmp_path / "climb.csv", rows)
    targets = {}
    for dt in (0.1, 0.05):
        data = recordings_dataset([load_csv(path, dt=dt)], "pd", train_s=5.0, test_s=10.0)
        targets[dt] = data["test_targets"][0, :, 0]
    # the last 5 s (the filters settled), at the same instants (every other 0.05 s sample)
    np.testing.assert_allclose(targets[0.05][-100::2], targets[0.1][-50:], rtol=0, atol=0.02)
    assert abs(targets[0.1][-1] - (PD_TARGET.kp * (1.5 - altitude[-1]) - PD_TARGET.kd * 0.02)) < 0.05
