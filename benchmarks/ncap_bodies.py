"""The shipped spiking NCAP on held-out swimmer bodies drawn from the whole envelope, without retraining.

The shipped controller (`snncontrol/controllers/swimmer_ncap`) was evolved on one body: 6 links of 0.1 m, gear
5e-4 N·m, water (viscosity 1e-3 Pa·s) at density 3000 kg/m³. Here it swims `--bodies` bodies drawn from
`sim_envs.swimmer.envelope.SwimmerEnvelope()` (3-12 links of 0.05-0.2 m, gear x0.5-2, viscosity 1e-3 .. 1e-1 Pa·s,
density 1000-6000 kg/m³; seed `--seed`, none of them the training body, none used to tune anything), re-instantiated
for each body's links with its 4 evolved shared weights (`snncontrol.controllers.ncap.retarget`), `--episodes`
episodes of 1000 steps (0.03 s) each from episode seeds 20000.. (never used in evolution or selection). The peer,
on the same bodies and episodes: the same circuit at the paper's initialization (+1 / -1, not evolved), what the
evolution is measured against.

    .venv/bin/python benchmarks/ncap_bodies.py [--bodies 24] [--episodes 3] [--seed 0]

Reports per controller the median and the worst body of the NCAP return (mean over its episodes; the worst
episode beside it) and of the net speed (head displacement / duration, m/s), the bodies it swims forward on (net
speed > 1 mm/s), and the ratio evolved / paper init. Writes benchmarks/results/ncap_bodies.json and ends with
`RESULT ncap_bodies bodies=... return_median=... return_worst=... peer_return_median=... ratio_median=...`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim_envs.swimmer.envelope import SwimmerEnvelope  # noqa: E402
from snncontrol.artifacts import read_artifact  # noqa: E402
from snncontrol.atomic import write_text  # noqa: E402
from snncontrol.controllers.ncap import paper_genome, retarget  # noqa: E402
from snncontrol.evaluation.swimming import swim  # noqa: E402

ARTIFACT = ROOT / "snncontrol" / "controllers" / "swimmer_ncap"
OUT = ROOT / "benchmarks" / "results" / "ncap_bodies.json"
EPISODE_SEED = 20_000  # episode seeds from here: never drawn by an evolution run or a selection
FORWARD_M_S = 1e-3  # a body swims forward when its net speed exceeds this (m/s)
TRAINED_ON = "6 links of 0.1 m, gear 5e-4 N·m, viscosity 1e-3 Pa·s, density 3000 kg/m³"


def summary(values: np.ndarray) -> dict[str, float]:
    return {"median": float(np.median(values)), "worst": float(values.min())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=24)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the body draws")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    spec, genome, _, _ = read_artifact(ARTIFACT)
    seeds = [EPISODE_SEED + e for e in range(args.episodes)]
    rows = []
    print("| links | link (m) | gear (N·m) | viscosity (Pa·s) | density | evolved: return (worst episode) | net speed "
          "(m/s) | paper init: return | net speed |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for body in SwimmerEnvelope().bodies(args.seed, args.bodies):
        links = body.pop("n_links")
        s, g, io = retarget(spec, genome, links)
        result = swim(s, np.stack([g, paper_genome(s)]), io, links, seeds, env_kwargs=body)
        returns = result.copy_returns.reshape(2, len(seeds))
        row = {"n_links": links, **body, "return": float(result.returns[0]), "worst_episode": float(returns[0].min()),
               "net_speed": float(result.net_speeds[0]), "peer_return": float(result.returns[1]),
               "peer_net_speed": float(result.net_speeds[1])}
        rows.append(row)
        print(f"| {links} | {body['link_length']:.3f} | {body['gear']:.2e} | {body['viscosity']:.1e} | "
              f"{body['density']:.0f} | {row['return']:.0f} ({row['worst_episode']:.0f}) | {row['net_speed']:.4f} | "
              f"{row['peer_return']:.0f} | {row['peer_net_speed']:.4f} |", flush=True)
    ours, peer = (np.array([r[key] for r in rows]) for key in ("return", "peer_return"))
    speeds, peer_speeds = (np.array([r[key] for r in rows]) for key in ("net_speed", "peer_net_speed"))
    ratio = ours / np.maximum(peer, 1e-9)
    document = {
        "benchmark": "ncap_bodies",
        "artifact": str(ARTIFACT.relative_to(ROOT)),
        "trained_on": TRAINED_ON,
        "envelope": dataclasses.asdict(SwimmerEnvelope()),
        "body_seed": args.seed,
        "episode_seeds": seeds,
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
        "rows": rows,
        "evolved": {"return": summary(ours), "worst_episode": float(min(r["worst_episode"] for r in rows)),
                    "net_speed": summary(speeds), "forward": int((speeds > FORWARD_M_S).sum())},
        "paper_init": {"return": summary(peer), "net_speed": summary(peer_speeds),
                       "forward": int((peer_speeds > FORWARD_M_S).sum())},
        "ratio_evolved_over_paper_init": {**summary(ratio), "best": float(ratio.max())},
    }
    write_text(args.out, json.dumps(document, indent=1) + "\n")
    e, p = document["evolved"], document["paper_init"]
    print(f"evolved: return median {e['return']['median']:.0f}, worst body {e['return']['worst']:.0f}, worst "
          f"episode {e['worst_episode']:.0f}; forward on {e['forward']} of {len(rows)}; paper init: median "
          f"{p['return']['median']:.0f}, worst {p['return']['worst']:.0f}, forward on {p['forward']}")
    print(f"RESULT ncap_bodies bodies={len(rows)} return_median={e['return']['median']:.0f} "
          f"return_worst={e['return']['worst']:.0f} worst_episode={e['worst_episode']:.0f} "
          f"peer_return_median={p['return']['median']:.0f} peer_return_worst={p['return']['worst']:.0f} "
          f"ratio_median={np.median(ratio):.2f} ratio_worst={ratio.min():.2f} forward={e['forward']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
