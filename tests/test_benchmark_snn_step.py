"""The snn_step benchmark still runs at a tiny size, and its snnTorch mapping agrees with our network."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("snntorch")



def test_quick_run_reports_and_agrees(tmp_path, capsys, load_benchmark):
    bench = load_benchmark("snn_step")
    output = tmp_path / "snn_step.json"
    result = bench.main(["--quick", "--output", str(output)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.fullmatch(
        r"RESULT snn_step speedup_vs_snntorch_batched=\S+ speedup_vs_snntorch_loop=\S+ "
        r"neuron_steps_per_s=\S+ step_p1_us=\S+ step_p1_realtime_us=\S+ tick_p1_us=\S+",
        lines[-1],
    )
    assert output.exists()
    for agreement in result["agreement"]:
        assert agreement["spike_match_fraction"] > 0.99
        assert agreement["spikes_ours"] > 0
        assert agreement["readout_max_abs_diff"] <= 1e-3 * max(1.0, agreement["readout_max_abs"])
        assert agreement["snntorch_loop_vs_batched_readout_max_abs_diff"] <= 1e-3 * max(
            1.0, agreement["readout_max_abs"]
        )
        assert agreement["ours_step_vs_rollout_identical"]
        assert agreement["ours_spike_counter_matches_raster"]
    assert all(value > 0 for value in result["rollout"]["neuron_steps_per_s"].values())
    assert result["step_p1"]["ours"]["median_us"] > 0
