"""Transfer of the shipped spiking NCAP across bodies, without retraining.

The shipped controller (`snncontrol/controllers/swimmer_ncap`, evolved on 6 links) is re-instantiated for every
body of n = 3 .. 13 links with the same 4 evolved shared weights (`snncontrol.controllers.ncap.retarget`) and
swum closed loop for 5 episodes of 1000 steps (0.03 s) in the swimmer plant (episode seeds `--seed` ..
`--seed` + 4, 0..4 by default). For reference the same circuit at the paper's initialization (+1 / -1, not
evolved) is swum too.

    .venv/bin/python benchmarks/ncap_transfer.py [--episodes 5] [--seed 0] [--out results.json] [--plot speeds.png]

Writes benchmarks/results/ncap_transfer.json (per n: mean head forward speed in m/s and mean NCAP return, for
both) and ncap_transfer.png (forward speed vs links), prints a markdown table and ends with
`RESULT ncap_transfer links_forward=K of=11 min_speed=... speed_6=... params=4 ratio_vs_paper_init_median=...
ratio_vs_paper_init_worst=...` (the JSON's `result` holds the same) where a body moves forward when its mean head
forward speed is > 0, and the ratios are the evolved speed over the paper init's, per body where the paper init
swims forward (median and the worst body).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import integer, output_file, plot_file, ratios, result_line  # noqa: E402

from snncontrol.artifacts import read_artifact  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.controllers.ncap import ncap_weights, paper_genome, retarget  # noqa: E402
from snncontrol.errors import SnnControlError  # noqa: E402
from snncontrol.evaluation.swimming import swim  # noqa: E402
from snncontrol.seeding import seed_argument  # noqa: E402

ARTIFACT = ROOT / "snncontrol" / "controllers" / "swimmer_ncap"
LINKS = range(3, 14)
OUT = ROOT / "benchmarks" / "results" / "ncap_transfer.json"
PLOT = OUT.with_suffix(".png")


def plot(rows: list[dict], path: str) -> None:
    """Head forward speed (mean +- std over episodes) vs links, evolved and at the paper's initialization."""
    import matplotlib.pyplot as plt

    from snncontrol.evaluation.plots import save_figure

    fig, ax = plt.subplots(figsize=(6, 3.5), constrained_layout=True)
    links = [r["links"] for r in rows]
    ax.errorbar(links, [r["speed"] for r in rows], yerr=[r["speed_std"] for r in rows], marker="o",
                label="evolved on 6 links")
    ax.plot(links, [r["init_speed"] for r in rows], "s--", label="paper init (+1/-1)")
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(6, color="0.7", lw=0.8)
    ax.set(xlabel="links", ylabel="head forward speed (m/s)", title="spiking NCAP, no retraining")
    ax.legend()
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artifact", default=str(ARTIFACT))
    parser.add_argument("--episodes", type=integer(1, 1000), default=5)
    parser.add_argument("--seed", type=seed_argument, default=0, help="first episode seed (default 0)")
    parser.add_argument("--plot", default=str(PLOT), help="plot of forward speed vs links (PNG)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    output = output_file(parser, args.out, "--out")
    plot_path = plot_file(parser, args.plot, "--plot", output)
    try:
        spec, genome, _meta, _ = read_artifact(args.artifact)
        retarget(spec, genome, LINKS[0])  # (not an NCAP: refused now, not after the first bodies)
    except SnnControlError as exc:
        parser.error(f"--artifact: {exc}")
    seeds = [args.seed + e for e in range(args.episodes)]
    rows = []
    print("| links | evolved: speed (m/s) | evolved: return | paper init: speed (m/s) | paper init: return |")
    print("|---:|---:|---:|---:|---:|")
    for n in LINKS:
        s, g, io = retarget(spec, genome, n)
        result = swim(s, np.stack([g, paper_genome(s)]), io, n, seeds)  # evolved and paper init, one batch
        speed = result.copy_speeds.reshape(2, len(seeds))
        row = {
            "links": n,
            "speed": float(result.speeds[0]),
            "speed_std": float(speed[0].std()),
            "return": float(result.returns[0]),
            "init_speed": float(result.speeds[1]),
            "init_return": float(result.returns[1]),
        }
        rows.append(row)
        print(
            f"| {n} | {row['speed']:.4f} | {row['return']:.0f} | {row['init_speed']:.4f} | "
            f"{row['init_return']:.0f} |",
            flush=True,
        )
    speeds = np.array([r["speed"] for r in rows])
    forward = int((speeds > 0).sum())
    speed_6 = next(r["speed"] for r in rows if r["links"] == 6)
    # the peer: the same circuit at the paper's initial weights (Bhattasali et al.), on the same bodies and seeds
    by_body = ratios(speeds, np.array([r["init_speed"] for r in rows]))  # nan where the paper init does not swim
    by_body = by_body[np.isfinite(by_body)]
    line, result = result_line("ncap_transfer", {
        "links_forward": forward, "of": len(rows), "min_speed": (float(speeds.min()), ".4f"),
        "speed_6": (speed_6, ".4f"), "params": spec.parameters.size,
        "ratio_vs_paper_init_median": float(np.median(by_body)) if len(by_body) else float("nan"),
        "ratio_vs_paper_init_worst": float(by_body.min()) if len(by_body) else float("nan")})
    document = {
        "artifact": str(Path(args.artifact).relative_to(ROOT)) if Path(args.artifact).is_relative_to(ROOT)
        else args.artifact,
        "spec": spec.name,
        "weights": ncap_weights(spec, genome),
        "episodes": args.episodes,
        "episode_seeds": seeds,
        "episode_steps": 1000,
        "rows": rows,
        "links_forward": forward,
        "min_speed": float(speeds.min()),
        "speed_6": speed_6,
        "params": spec.parameters.size,
        "peer": "paper init",
        "speed_over_paper_init": {"median": float(np.median(by_body)), "worst": float(by_body.min()),
                                  "bodies": len(by_body)} if len(by_body) else None,
        "result": result,
    }
    write_json(output, document)  # before the plot: a plot that fails loses no swim
    plot(rows, str(plot_path))
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
