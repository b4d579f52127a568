"""The nodes as processes (`python -m snncontrol_ros.<node>`, as launch files start them): a node that cannot
start (a bad or misspelt parameter, a malformed ROS argument or parameter file, a message type the recorder does
not know, leaving no bag behind), or is given a bad option, says why in one line and exits with status 2; a
controller whose autostart cannot configure reports ERROR on /diagnostics and exits with status 1; real-time
scheduling and CPU affinity reach every thread; the recorder, stopped with SIGINT while messages are still in
flight, writes every one of them before it closes the bag and exits with status 0, and it announces when it hears
every publisher it records."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from rosbags.highlevel import AnyReader
from snncontrol_ros import messages, run_blimp_sim
from snncontrol_ros.launcher import Processes, config_file, run_sim_graph
from snncontrol_ros.recorder import BagRecorder
from std_msgs.msg import Float64, Float64MultiArray, String

from evolution import loopback

MESSAGES = 300


def node(module: str, *params: str, options: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", f"snncontrol_ros.{module}", *options, "--ros-args",
            *(a for p in params for a in ("-p", p))]


@pytest.mark.parametrize(
    ("module", "params", "reason"),
    [
        ("sim_node", ["plant:=boat"], "plant must be one of"),
        ("controller_node", ["control_rate_hz:=-5.0"], "control_rate_hz out of range"),
        ("controller_node", ["contol_mode:=timer"], "'contol_mode' (did you mean 'control_mode'?)"),
        ("recorder", ["output:={existing}"], "exists already"),
        ("sim_node", ["realtime_factor:=0.0"], "realtime_factor out of range"),
        ("sim_node", ["seed:=-1"], "seed out of range"),
        ("recorder", ["output:={existing}/bag", "topics:=[a]", "types:=[sensor_msgs/msg/Nope]"],
         "unknown message type 'sensor_msgs/msg/Nope'"),
        # each of these was taken and crashed the node later (a traceback when the command stopped, a frame was
        # rendered or the episode ended), or published garbage (an unstable plant), or ran silently wrong
        ("sim_node", ["safe_command:=[.nan]"], "safe_command [nan] must be finite and within the plant's action"),
        ("sim_node", ["safe_command:=[9.0]"], "safe_command [9.0] must be finite and within the plant's action"),
        ("sim_node", ["buoyancy_bias:=1e20"], "buoyancy_bias must be within +-0.1 N"),
        ("sim_node", ["buoyancy_bias:=.inf"], "buoyancy_bias must be within +-0.1 N"),
        ("sim_node", ["publish_image:=true", "image_width:=2000"], "exceed the model's offscreen framebuffer"),
        ("sim_node", ["log_file:={existing}/file/run.npz"], "is a file, not a directory"),
        ("recorder", ["output:={existing}/bag", "reliability:=Reliable"], "reliability must be 'best_effort' or"),
        ("recorder", ["output:={existing}/bag", "ready_topic:=bad topic"], "ready_topic 'bad topic': "),
        # a traceback and exit 1; a topic named twice kept its last type without a word
        ("recorder", ["output:={existing}/bag", "topics:=['/a b']", "types:=[std_msgs/msg/Float64]"],
         "topics: '/a b': "),
        ("recorder", ["output:={existing}/bag", "topics:=[/a, a]",
                      "types:=[std_msgs/msg/Float64, std_msgs/msg/String]"], "topics: /a is named twice"),
        ("sim_node", ["safe_command:=[]"], "safe_command needs 1 value, got 0"),
        ("place_recognition_node", ["max_age_s:=0.0"], "max_age_s out of range"),
        # a misspelt parameter was dropped silently: the node ran on the default (here the default image topic)
        ("place_recognition_node", ["image_topc:=/cam"], "'image_topc' (did you mean 'image_topic'?)"),
        ("sim_node", ["episode_lenght_s:=5.0"], "'episode_lenght_s' (did you mean 'episode_length_s'?)"),
        ("recorder", ["output:={existing}/bag", "reliabilty:=reliable"], "(did you mean 'reliability'?)"),
        ("passthrough_node", ["input_topc:=/range"], "'input_topc' (did you mean 'input_topic'?)"),
    ],
)
def test_a_node_that_cannot_start_says_why_in_one_line(ros_domain_id, tmp_path: Path, module, params, reason):
    params = [p.format(existing=tmp_path) for p in params]
    (tmp_path / "file").write_text("a file where a folder would have to be")
    done = subprocess.run(node(module, *params), env=dict(os.environ), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot start" in lines[0] and reason in lines[0], done.stderr
    assert not (tmp_path / "bag").exists()  # a recorder refused at start leaves no bag behind


@pytest.mark.parametrize(
    ("ros_args", "reason"),
    [(["--params-file", "{tmp}/missing.yaml"], "Couldn't parse params file"),
     (["--params-file", "{tmp}/broken.yaml"], "Couldn't parse params file"),
     (["-p", "safe_command:=[0.0"], "Couldn't parse parameter override rule")],
)
def test_malformed_ros_arguments_say_why_in_one_line(ros_domain_id, tmp_path: Path, ros_args, reason):
    (tmp_path / "broken.yaml").write_text("snn_controller:\n  ros__parameters: [unclosed\n")
    argv = [sys.executable, "-m", "snncontrol_ros.controller_node", "--ros-args",
            *(arg.format(tmp=tmp_path) for arg in ros_args)]
    done = subprocess.run(argv, env=dict(os.environ), capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "cannot start" in lines[0] and reason in lines[0], done.stderr
    assert ", at /" not in lines[0]  # without rcl's C source locations


@pytest.mark.parametrize(
    ("options", "reason"),
    [(("--realtime-priority", "120"), "0 (off) or 1..99"), (("--cpu-affinity", "one"), "CPU numbers"),
     (("--executor", "fast"), "invalid choice"),
     (("--executor", "multi", "--realtime-priority", "10"), "needs --executor events")],
)
def test_bad_process_options_say_why_in_one_line(ros_domain_id, options, reason):
    done = subprocess.run(node("passthrough_node", options=options), env=dict(os.environ), capture_output=True,
                          text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1 and "cannot start" in lines[0] and reason in lines[0], done.stderr


def test_a_controller_that_cannot_configure_reports_error_and_exits_with_status_1(ros_domain_id, context, spinner):
    statuses: list = []
    probe = spinner.add(rclpy.create_node("diagnostics_probe", context=context))
    probe.create_subscription(DiagnosticArray, "/diagnostics", lambda msg: statuses.extend(msg.status), 10)
    proc = subprocess.Popen(node("controller_node", "artifact:=/nonexistent/artifact", "autostart:=true"),
                            env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        assert spinner.until(lambda: any(s.level == b"\x02" for s in statuses), 30.0), "no ERROR on /diagnostics"
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert statuses[-1].message.startswith("configure failed:") and proc.returncode == 1, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("artifact", "reason"), [
    ("/nonexistent", "artifact /nonexistent: not found"),
    ("shipped:swimmer_ncap", "do not fit the artifact"),  # an artifact of another kind for the blimp's inputs
])
def test_a_controller_whose_autostart_fails_exits_with_status_1_at_once(ros_domain_id, artifact, reason):
    """It logged the reason and stayed up, unconfigured, for ever (a launcher waited for its 15-minute timeout)."""
    start = time.monotonic()
    done = subprocess.run(node("controller_node", f"artifact:={artifact}", "autostart:=true"), env=dict(os.environ),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - start < 25.0  # (within the subprocess timeout: the old node never ended)
    last = done.stderr.strip().splitlines()[-1]
    assert "autostart failed: " in last and reason in last and last.endswith("exiting with status 1"), done.stderr
    assert "Traceback" not in done.stderr


def test_realtime_priority_and_cpu_affinity_reach_every_thread_of_the_node(ros_domain_id, context):
    """The CPU set reaches every thread, and SCHED_FIFO the main thread before the middleware starts its own,
    which inherit it; where the system refuses the priority, the node warns in one line and runs on."""
    cpu = min(os.sched_getaffinity(0))
    proc = subprocess.Popen(node("passthrough_node", options=("--realtime-priority", "10", "--cpu-affinity", str(cpu))),
                            env=dict(os.environ), stderr=subprocess.PIPE, text=True)
    try:
        probe = rclpy.create_node("rt_probe", context=context)
        for _ in range(300):  # up once its subscription is discovered
            if probe.count_subscribers("altitude"):
                break
            time.sleep(0.1)
        assert probe.count_subscribers("altitude"), "the node did not come up"
        threads = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task")]
        assert len(threads) > 1, "the middleware threads exist"
        assert all(os.sched_getaffinity(t) == {cpu} for t in threads)
        # The main thread and the middleware's (started after the option took effect; the numerical libraries'
        # threads, started on import, keep normal scheduling).
        middleware = [t for t in threads if Path(f"/proc/{proc.pid}/task/{t}/comm").read_text().startswith("dds.")]
        assert len(middleware) > 3, "Fast DDS runs its own threads"
        policies = {(os.sched_getscheduler(t), os.sched_getparam(t).sched_priority) for t in [proc.pid, *middleware]}
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    # Whether this machine grants SCHED_FIFO decides what the node must have got (a node that never asked and only
    # said it was refused passed before).
    allowed = subprocess.run([sys.executable, "-c", "import os; os.sched_setscheduler(0, os.SCHED_FIFO, "
                              "os.sched_param(10))"], capture_output=True).returncode == 0
    assert ("SCHED_FIFO 10 refused" in stderr) != allowed, stderr
    assert policies == ({(os.SCHED_FIFO, 10)} if allowed else {(os.SCHED_OTHER, 0)}), stderr


def test_recorder_stopped_mid_burst_writes_every_message_and_closes_the_bag(ros_domain_id, context, spinner,
                                                                          tmp_path: Path):
    bag = tmp_path / "bag"
    recorder = subprocess.Popen(node("recorder", f"output:={bag}", "topics:=[/burst]", "types:=[std_msgs/msg/Float64]",
                                     "reliability:=reliable", "ready_topic:=/recorder/ready"), env=dict(os.environ),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        source = spinner.add(rclpy.create_node("source", context=context))
        qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=MESSAGES, reliability=ReliabilityPolicy.RELIABLE)
        pub = source.create_publisher(Float64, "/burst", qos)
        ready: list[String] = []
        source.create_subscription(String, "/recorder/ready", ready.append, messages.setpoint_qos())
        assert spinner.until(lambda: ready and pub.get_subscription_count() > 0, 30.0), "the recorder is not ready"
        assert ready[0].data == "/burst"  # it hears this publisher (its side of the match, as the sim waits for)
        for k in range(MESSAGES):
            pub.publish(Float64(data=float(k)))
        recorder.send_signal(signal.SIGINT)  # at once: most of the burst is still on its way
        spinner.spin_for(0.2)  # the publisher keeps answering the reliable protocol while the recorder drains
        output, _ = recorder.communicate(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
    assert recorder.returncode == 0, output
    assert f"/burst {MESSAGES}" in output  # the closing log line
    with AnyReader([bag]) as reader:
        values = [reader.deserialize(raw, conn.msgtype).data for conn, _, raw in reader.messages()]
    assert values == [float(k) for k in range(MESSAGES)]


def test_a_recorder_that_cannot_write_stops_in_one_line_and_exits_with_status_1(ros_domain_id, context, spinner,
                                                                               tmp_path: Path):
    """Disk full or a file size limit (here 1 MiB): the write error killed the node with a traceback."""
    bag = tmp_path / "bag"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    recorder = subprocess.Popen(node("recorder", f"output:={bag}", "topics:=[/big]",
                                     "types:=[std_msgs/msg/Float64MultiArray]", "reliability:=reliable"),
                                env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                preexec_fn=small_files)
    try:
        source = spinner.add(rclpy.create_node("source", context=context))
        pub = source.create_publisher(Float64MultiArray, "/big", QoSProfile(depth=10,
                                                                            reliability=ReliabilityPolicy.RELIABLE))
        assert spinner.until(lambda: pub.get_subscription_count() > 0, 30.0)
        for _ in range(300):  # 16 kB each: the limit is reached after ~60
            pub.publish(Float64MultiArray(data=[1.0] * 2000))
            spinner.spin_for(0.005)
            if recorder.poll() is not None:
                break
        output, _ = recorder.communicate(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
    assert recorder.returncode == 1, output
    assert "Traceback" not in output and "File too large: recording stopped" in output, output


def test_a_bag_whose_write_failed_is_closed_with_what_was_written(tmp_path: Path, monkeypatch):
    bag = BagRecorder(tmp_path / "bag", {"/x": "std_msgs/msg/Float64"})
    data = [bytes(serialize_message(Float64(data=float(k)))) for k in range(5)]
    assert all(bag.write("/x", k, data[k]) for k in range(3))
    monkeypatch.setattr(bag.writer, "write", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left")))
    assert not bag.write("/x", 3, data[3]) and not bag.write("/x", 4, data[4])
    assert "failed after 3 messages" in bag.failure and bag.counts == {"/x": 3}
    monkeypatch.undo()
    bag.close()
    with AnyReader([tmp_path / "bag"]) as reader:
        assert [reader.deserialize(raw, c.msgtype).data for c, _, raw in reader.messages()] == [0.0, 1.0, 2.0]


def test_the_sim_graph_stops_when_a_node_ends_before_the_sim(ros_domain_id, tmp_path: Path):
    """A controller that cannot start (exit 2), a bag that exists: the launcher waited for the sim until its
    timeout (15 minutes by default) and said the simulation did not finish."""
    with pytest.raises(RuntimeError, match=r"controller.log ended before the simulation \(exit 2\): .*out of range"):
        run_sim_graph(config_file("blimp_sim.yaml"), tmp_path / "run", {"control_rate_hz": -5.0},
                      {"episode_length_s": 5.0}, domain_id=ros_domain_id, timeout_s=120.0)
    (tmp_path / "bag").mkdir()
    with pytest.raises(FileExistsError, match="exists already"):
        run_sim_graph(config_file("blimp_sim.yaml"), tmp_path / "run", {}, {}, record=tmp_path / "bag")
    with pytest.raises(SystemExit) as stop:
        run_blimp_sim.main(["--control-mode", "timer"])  # would never tick: sim time waits for its command
    assert stop.value.code == 2


def _signalled_graph(tmp_path: Path, domain_id: int, *options: str, nodes: int, send) -> tuple[int, str, list[int]]:
    """Start run_blimp_sim (realtime, in a process group of its own, `options` added), wait for its `nodes` nodes,
    call `send(graph)` once they have run a while, and return (exit status, output, the nodes' PIDs)."""
    graph = subprocess.Popen([sys.executable, "-m", "snncontrol_ros.run_blimp_sim", "--mode", "realtime",
                              "--duration", "600", "--out", str(tmp_path / "run"), "--domain-id", str(domain_id),
                              *options], env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, start_new_session=True)  # (a signal to its group reaches no test process)
    try:
        deadline = time.monotonic() + 60
        while len(loopback.children(graph.pid)) < nodes and time.monotonic() < deadline:
            time.sleep(0.2)
        started = loopback.children(graph.pid)
        assert len(started) == nodes, "every node runs"
        logs = tmp_path / "run"  # (the run's sim.log is in its folder .run.run.* until the run ends)
        while time.monotonic() < deadline and not any(  # a recorded run starts once the recorder hears every publisher
                "started: first reading" in log.read_text() for log in logs.parent.glob(".run.run.*/sim.log")):
            time.sleep(0.2)
        time.sleep(3.0)
        send(graph)
        output, _ = graph.communicate(timeout=120)
    finally:
        if graph.poll() is None:
            graph.kill()
    assert not [pid for pid in started if Path(f"/proc/{pid}").exists()], "a node outlived the graph"
    return graph.returncode, output, started


def test_sigterm_to_the_sim_graph_stops_every_node(ros_domain_id, tmp_path: Path):
    """Python's default SIGTERM ended run_blimp_sim at once and left its three nodes running (orphans)."""
    status, _, _ = _signalled_graph(tmp_path, ros_domain_id, nodes=2, send=lambda g: g.send_signal(signal.SIGTERM))
    assert status != 0


def test_a_hang_up_then_a_second_signal_still_close_the_bag_and_stop_every_node(ros_domain_id, tmp_path: Path):
    """A closed terminal sends SIGHUP to the whole process group: every node died at once (SIGHUP's default) and the
    recorder's bag (kept in memory until closed) was 0 bytes, without metadata.yaml; and a second SIGTERM while the
    launcher was stopping its nodes ended it and left the recorder, stopped last, running with its bag open."""

    def hang_up_then_terminate(graph: subprocess.Popen) -> None:
        os.killpg(graph.pid, signal.SIGHUP)  # as a terminal's hang-up is sent: to the whole foreground group
        time.sleep(0.3)
        graph.send_signal(signal.SIGTERM)

    bag = tmp_path / "bag"
    status, output, _ = _signalled_graph(tmp_path, ros_domain_id, "--record", str(bag), nodes=3,
                                         send=hang_up_then_terminate)
    assert status != 0 and "Traceback" not in output, output
    assert (bag / "metadata.yaml").is_file(), output
    with AnyReader([bag]) as reader:
        assert sum(1 for _ in reader.messages()) > 10  # what came in the 3 s before the hang-up


def test_a_signal_while_the_launcher_stops_its_processes_waits_until_every_one_is_stopped(tmp_path: Path):
    """The interrupt raised in the middle of the loop: the processes not yet stopped (the recorder is stopped last)
    ran on. It is raised once all are stopped."""
    processes = Processes()
    logs = [tmp_path / f"{k}.log" for k in range(2)]
    # (a node's run_node sets its own SIGINT handler; Python keeps SIGINT ignored where it starts ignored: nohup)
    child = ("import signal, time; signal.signal(signal.SIGINT, signal.default_int_handler); print('ready', "
             "flush=True); time.sleep(60)")
    started = [processes.start([sys.executable, "-c", child], log) for log in logs]
    deadline = time.monotonic() + 60
    while not all(log.read_text().strip() == "ready" for log in logs) and time.monotonic() < deadline:
        time.sleep(0.05)  # (a SIGINT before the handler is set is the start-up's business, not the launcher's)
    wait, calls = started[1].proc.wait, []

    def interrupted_once(timeout=None):
        calls.append(timeout)
        if len(calls) == 1:
            raise KeyboardInterrupt  # a second Ctrl-C, as the first process is being stopped
        return wait(timeout=timeout)

    started[1].proc.wait = interrupted_once  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        processes.stop()
    assert [item.proc.poll() for item in started] == [-signal.SIGINT] * 2 and len(calls) == 2  # one SIGINT each
