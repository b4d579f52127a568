"""benchmarks/blimp_pid_lag.py on a short run: its plain PID is `snncontrol eval-blimp`'s, a zero delay and a
zero smoothing change nothing, a delayed PID holds worse, and it ends with its RESULT line."""

from __future__ import annotations

import json
import re

from snncontrol.artifacts import load_controller
from snncontrol.controllers import SHIPPED
from snncontrol.evaluation.blimp_eval import evaluate


def test_short_run_reports_the_pid_variants(tmp_path, capsys, load_benchmark):
    bench = load_benchmark("blimp_pid_lag")
    output = tmp_path / "blimp_pid_lag.json"
    assert bench.main(["--plants", "3", "--hold-s", "30", "--output", str(output)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"RESULT blimp_pid_lag ss_cm_plain=\S+ ss_cm_rounded_0.8=\S+ ss_cm_delay_2=\S+ "
                        r"ss_cm_lowpass_0.7=\S+", last)
    calm = json.loads(output.read_text())["conditions"]["calm"]
    reference = evaluate(load_controller(SHIPPED["blimp"]), "calm", plants=3, seed=100, hold_s=30.0)["PID"].figures
    assert calm["plain"] == reference  # the peer is the reference PID of the SNN's evaluation
    io = load_controller(SHIPPED["blimp"]).io
    same = bench.run_variant(io, {"delay": 0, "d": 0.0, "q": 0.0}, "calm", [100, 101, 102], 30.0)
    assert same == calm["plain"]
    assert calm["delay_3"]["ss_error_cm_median"] > calm["plain"]["ss_error_cm_median"]
