"""What the benchmark scripts report and where: every exit after argument parsing ends with one RESULT line
(status=... and a non-zero exit where the run failed), blimp_report grades the stage docs/benchmarks.md quotes by
name, blimp_pipeline ships the envelope seed as one atomic directory, and the small rules behind the figures (the
worst plant, the last evolution chunk, the plot beside another --output). Unit-level: nothing here flies, swims or
evolves."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

GRADED = "constructed spiking PD + integrator (shipped until 2026-12-06)"  # the stage docs/benchmarks.md quotes


def _figures(ss: float, overshoot: float) -> dict[str, float]:
    return {"ss_error_cm_median": ss, "overshoot_up_cm_median": overshoot}


def test_blimp_report_grades_the_named_stage_not_the_last(load_benchmark) -> None:
    report = load_benchmark("blimp_report")
    assert report.GRADED_STAGE[1] == GRADED
    disturbed = {"PD-SNN alone (mimic)": _figures(41.0, 3.6), GRADED: _figures(2.04, 8.26),
                 "that with its PD-SNN's decays fine-tuned": _figures(1.76, 7.06),
                 "PID (reference)": _figures(1.73, 11.69)}
    line = report.result_line({"calm": {}, "disturbed": disturbed})
    assert line == ("RESULT blimp_report stage=constructed_pd_i ss_disturbed_cm=2.04 pid_ss_disturbed_cm=1.73 "
                    "overshoot_cm=8.3 pid_overshoot_cm=11.7 pid_over_snn_overshoot=1.42")
    del disturbed[GRADED]  # its run is missing: said, not another stage graded in its place
    assert report.result_line({"calm": {}, "disturbed": disturbed}) == (
        "RESULT blimp_report stage=constructed_pd_i status=missing_stage")


def test_ncap_learning_without_finished_runs_ends_with_a_result_line(load_benchmark, tmp_path, capsys) -> None:
    learning = load_benchmark("ncap_learning")
    assert learning.main(["--skip-evolve", "--runs", str(tmp_path), "--seeds", "1"]) == 1
    assert capsys.readouterr().out.strip().splitlines()[-1] == "RESULT ncap_learning status=no_runs"


def test_ncap_learning_without_the_peer_says_so_in_its_result_line(load_benchmark) -> None:
    learning = load_benchmark("ncap_learning")
    spiking = {"final_return_mean": 520.0, "init_return_mean": 30.0, "parameters": 4}
    line = learning.result_line({"spiking NCAP": spiking})
    assert line.startswith("RESULT ncap_learning status=missing_runs spiking_final=520.0 graded_final=nan ")
    assert "mlp_final=nan ratio=nan" in line and line.endswith("params_ratio=nan")
    mlp = {"final_return_mean": 260.0, "init_return_mean": 5.0, "parameters": 4804}
    assert learning.result_line({"spiking NCAP": spiking, "MLP(64, 64)": mlp}) == (
        "RESULT ncap_learning spiking_final=520.0 graded_final=nan mlp_final=260.0 ratio=2.00 spiking_init=30.0 "
        "mlp_init=5.0 params_ratio=1201")


def test_blimp_pipeline_ends_with_a_result_line_whether_a_step_fails_or_not(load_benchmark, monkeypatch,
                                                                           capsys) -> None:
    pipeline = load_benchmark("blimp_pipeline")
    ran: list[str] = []

    def run_step(step: str, ship_it: bool) -> None:
        ran.append(step)
        if step == "compose":
            raise subprocess.CalledProcessError(3, ["snncontrol", "compose"])

    monkeypatch.setattr(pipeline, "run_step", run_step)
    assert pipeline.main(["--from", "mimicry"]) == 1
    assert ran == ["mimicry", "compose"]
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "RESULT blimp_pipeline status=failed step=compose steps=1 from=mimicry"
    assert pipeline.main(["--from", "ship"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "RESULT blimp_pipeline status=ok steps=2 from=ship shipped=no")


def test_blimp_pipeline_replaces_the_envelope_seed_whole(load_benchmark, tmp_path: Path) -> None:
    pipeline = load_benchmark("blimp_pipeline")
    source, target = tmp_path / "best", tmp_path / "shipped"
    source.mkdir()
    (source / "controller.json").write_text("new")
    (source / "params.safetensors").write_bytes(b"new")
    target.mkdir()
    (target / "controller.json").write_text("old")
    pipeline.copy_artifact(source, target)
    assert {p.name: p.read_bytes() for p in target.iterdir()} == {"controller.json": b"new",
                                                                  "params.safetensors": b"new"}
    (target / "stale.bin").write_bytes(b"stale")  # not merged into a shipped artifact: refused
    with pytest.raises(FileExistsError):
        pipeline.copy_artifact(source, target)
    assert (target / "stale.bin").exists()


def test_blimp_evolution_stops_at_max_generations(load_benchmark) -> None:
    evolution = load_benchmark("blimp_evolution")
    stops, done = [], 0
    while done < 250:
        done = evolution.next_stop(done, 250)
        stops.append(done)
    assert stops == [200, 250]  # (was 200, 400)
    assert evolution.next_stop(0, 20_000) == 200  # the default run's chunks are unchanged


def test_blimp_pid_lag_worst_plant_leaves_out_plants_without_a_steady_state(load_benchmark) -> None:
    lag = load_benchmark("blimp_pid_lag")
    assert lag.worst([1.2, float("nan"), 3.3, 2.0]) == 3.3
    assert math.isnan(lag.worst([float("nan")]))


def test_ncap_bodies_ratio_summary_leaves_out_bodies_where_the_paper_init_does_not_swim(load_benchmark) -> None:
    bodies = load_benchmark("ncap_bodies")
    assert bodies.summary(np.array([np.nan, 2.0, 1.0])) == {"median": 1.5, "worst": 1.0}
    assert all(math.isnan(v) for v in bodies.summary(np.array([np.nan])).values())


def test_blimp_closed_loop_plot_goes_beside_another_output(load_benchmark, tmp_path: Path) -> None:
    closed_loop = load_benchmark("blimp_closed_loop")
    assert closed_loop.plot_beside(closed_loop.OUT) == closed_loop.PLOT  # the headline run: as before
    assert closed_loop.plot_beside(tmp_path / "candidate.json") == tmp_path / "candidate.png"
