"""The shipped PD+I SNN beside the reference PID in the same 20 randomized blimp plants, closed loop.

    .venv/bin/python benchmarks/blimp_closed_loop.py [--plants 20] [--seed 100] [--artifact shipped:blimp]

Protocol (`snncontrol.evaluation.blimp_eval`): negative buoyancy, set-points 0.5 / 1.0 / 1.5 m held 70 s, gusts,
buoyancy drift and 10 % rangefinder dropouts on ("disturbed"), and the same plants without disturbances
("calm"). The plant seeds (default 100 .. 119) are not among those the controller was evolved or selected on.
Writes benchmarks/results/blimp_closed_loop.json and ends with `RESULT blimp_closed_loop
ss_error_cm_median=... ss_error_cm_worst=... overshoot_cm=... pid_overshoot_cm=... pid_ss_error_cm_median=...`
(disturbed condition; overshoot = the larger of the median upward and downward overshoots).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from snncontrol import atomic  # noqa: E402
from snncontrol.artifacts import load_controller  # noqa: E402
from snncontrol.commands.eval_blimp import table  # noqa: E402
from snncontrol.controllers import resolve  # noqa: E402
from snncontrol.evaluation.blimp_eval import evaluate  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "blimp_closed_loop.json"


def overshoot(figures: dict[str, float]) -> float:
    return max(figures["overshoot_up_cm_median"], figures["overshoot_down_cm_median"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=20)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--artifact", default="shipped:blimp")
    args = parser.parse_args(argv)
    controller = load_controller(resolve(args.artifact))
    document: dict[str, object] = {"benchmark": "blimp_closed_loop", "artifact": args.artifact,
                                   "plants": args.plants, "seeds": [args.seed, args.seed + args.plants - 1],
                                   "load_average_before": os.getloadavg(), "conditions": {}}
    for condition in ("calm", "disturbed"):
        results = evaluate(controller, condition, args.plants, args.seed)
        print(f"{condition} ({args.plants} plants, median (worst)):")
        print("\n".join(table({name: r.figures for name, r in results.items()})))
        document["conditions"][condition] = {  # type: ignore[index]
            name: {"figures": r.figures, "per_plant": r.per_plant} for name, r in results.items()
        }
    disturbed = document["conditions"]["disturbed"]  # type: ignore[index]
    snn, pid = disturbed["SNN"]["figures"], disturbed["PID"]["figures"]
    calm = document["conditions"]["calm"]  # type: ignore[index]
    document["targets"] = {
        "ss_error_calm_median_le_1cm": calm["SNN"]["figures"]["ss_error_cm_median"] <= 1.0,
        "ss_error_disturbed_median_le_3cm": snn["ss_error_cm_median"] <= 3.0,
        "overshoot_below_pid_calm": overshoot(calm["SNN"]["figures"]) < overshoot(calm["PID"]["figures"]),
        "overshoot_below_pid_disturbed": overshoot(snn) < overshoot(pid),
    }
    document["ratio_pid_over_snn_overshoot"] = overshoot(pid) / max(overshoot(snn), 1e-9)
    atomic.write_text(OUT, json.dumps(document, indent=1) + "\n")
    print(f"targets: {document['targets']}")
    print(f"PID overshoot / SNN overshoot (disturbed): {document['ratio_pid_over_snn_overshoot']:.2f}")
    print(
        f"RESULT blimp_closed_loop ss_error_cm_median={snn['ss_error_cm_median']:.2f} "
        f"ss_error_cm_worst={snn['ss_error_cm_worst']:.2f} overshoot_cm={overshoot(snn):.1f} "
        f"pid_overshoot_cm={overshoot(pid):.1f} pid_ss_error_cm_median={pid['ss_error_cm_median']:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
