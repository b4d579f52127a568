"""The shipped spiking NCAPs on held-out swimmer bodies drawn from the whole envelope, beside the paper's circuit.

Two NCAPs ship, both the circuit of configs/ncap_spiking.yaml (6 links, 4 shared sign-constrained weights):
`swimmer_ncap`, evolved on one body (6 links of 0.1 m, gear 5e-4 N·m, water (viscosity 1e-3 Pa·s) at density
3000 kg/m³), and `swimmer_ncap_bodies`, evolved over the body envelope (`snncontrol evolve configs/ncap_bodies.yaml`:
each generation 6 bodies drawn anew, its champion chosen on 12 fixed validation bodies). Here both swim `--bodies`
bodies drawn from `sim_envs.swimmer.envelope.SwimmerEnvelope()` (3-12 links of 0.05-0.2 m, gear x0.5-2, viscosity
1e-3 .. 1e-1 Pa·s, density 1000-6000 kg/m³) with `--seed` (0: a stream no evolution run draws from; its figures
were seen before the body-envelope method was designed, so for `swimmer_ncap_bodies` only a later block, e.g. 1,
is held out), each re-instantiated for the body's links with its shared weights
(`snncontrol.controllers.ncap.retarget`), `--episodes` episodes of 1000 steps (0.03 s) each from episode seeds
20000.. (never used in evolution or selection). The peer, on the same bodies and episodes: the same circuit at the
paper's initialization (+1 / -1, not evolved), what evolution is measured against.

    .venv/bin/python benchmarks/ncap_bodies.py [--bodies 24] [--episodes 3] [--seed 0]
        [--artifact runs/ncap_bodies/best [--ship]]

`--artifact` grades a run's champion in place of the shipped body-envelope NCAP; with `--ship` it then becomes
`shipped:swimmer_ncap_bodies` (its metadata naming the run). Reports per controller the median and the worst
body of the NCAP return (mean over its episodes; the worst episode beside it) and of the net speed (m/s, signed:
the head's displacement along its mean heading / duration, negative swimming backwards), the bodies it swims
forward on (net speed > 1 mm/s), and each one's ratio to the paper's circuit. Writes
benchmarks/results/ncap_bodies.json and ends with
`RESULT ncap_bodies bodies=... single_median=... single_worst=... envelope_median=... envelope_worst=...
paper_median=... paper_worst=... single_ratio_worst=... envelope_ratio_worst=...`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import output_file, ratios, result_line  # noqa: E402

from sim_envs.swimmer.envelope import SwimmerEnvelope  # noqa: E402
from snncontrol.artifacts import read_artifact, save_controller  # noqa: E402
from snncontrol.atomic import write_json  # noqa: E402
from snncontrol.controllers import SHIPPED  # noqa: E402
from snncontrol.controllers.ncap import paper_genome, retarget_population  # noqa: E402
from snncontrol.errors import SnnControlError  # noqa: E402
from snncontrol.evaluation.swimming import swim  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "ncap_bodies.json"
EPISODE_SEED = 20_000  # episode seeds from here: never drawn by an evolution run or a selection
FORWARD_M_S = 1e-3  # a body swims forward when its (signed) net speed exceeds this (m/s; < 0: backwards)
ENVELOPE_CONFIG = "configs/ncap_bodies.yaml"
#: controller key -> (label, what it was evolved on)
CONTROLLERS = {
    "single": ("single body", "6 links of 0.1 m, gear 5e-4 N·m, viscosity 1e-3 Pa·s, density 3000 kg/m³"),
    "envelope": ("body envelope", f"6 bodies per generation drawn from SwimmerEnvelope() ({ENVELOPE_CONFIG})"),
    "paper": ("paper init", "not evolved: +1 excitatory, -1 inhibitory"),
}


def summary(values: np.ndarray) -> dict[str, float]:
    """Median and worst (smallest) of `values`, NaN (a ratio to a paper return <= 0) left out; NaN if all are."""
    values = values[~np.isnan(values)]
    if not len(values):
        return {"median": float("nan"), "worst": float("nan")}
    return {"median": float(np.median(values)), "worst": float(values.min())}


def relative(path: Path) -> str:
    """`path` relative to the repository where it lies inside it (results name no machine's folders)."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def ship(source: Path) -> None:
    """Write the run champion at `source` as shipped:swimmer_ncap_bodies, its metadata naming the run."""
    spec, genome, metadata, io = read_artifact(source)
    metadata.description = (
        "Spiking NCAP swimmer controller (Bhattasali et al. 2022 circuit on LIF neurons), 4 shared sign-constrained "
        "weights, evolved over the swimmer body envelope (3-12 links, link length, motors, fluid) by `snncontrol "
        f"evolve {ENVELOPE_CONFIG}`; graded on held-out bodies by benchmarks/ncap_bodies.py. Other bodies: "
        "snncontrol.controllers.ncap.retarget(spec, genome, n_links)."
    )
    metadata.extra = {**metadata.extra, "evolve_run": {"command": f"snncontrol evolve {ENVELOPE_CONFIG}",
                                                       "config": ENVELOPE_CONFIG, "run_dir": relative(source.parent)}}
    save_controller(SHIPPED["swimmer_ncap_bodies"], spec, genome, metadata, io)
    print(f"shipped {source} -> {SHIPPED['swimmer_ncap_bodies'].relative_to(ROOT)}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=24)
    parser.add_argument("--episodes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0, help="seed of the body draws")
    parser.add_argument("--artifact", help="a run's champion to grade in place of shipped:swimmer_ncap_bodies")
    parser.add_argument("--ship", action="store_true", help="with --artifact: ship it as swimmer_ncap_bodies")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    if args.ship and not args.artifact:
        parser.error("--ship ships the champion given with --artifact")
    if not (1 <= args.bodies <= 10_000 and 1 <= args.episodes <= 1000 and 0 <= args.seed < 2**32):
        parser.error(f"--bodies must be in 1..10000, --episodes in 1..1000 and --seed in 0..2^32-1, got "
                     f"{args.bodies}, {args.episodes} and {args.seed}")
    output = output_file(parser, args.out, "--out")
    envelope_path = Path(args.artifact) if args.artifact else SHIPPED["swimmer_ncap_bodies"]
    try:
        spec, single, _, _ = read_artifact(SHIPPED["swimmer_ncap"])
        envelope_spec, envelope, _, _ = read_artifact(envelope_path)
    except SnnControlError as exc:
        parser.error(str(exc))
    if envelope_spec.to_dict() != spec.to_dict():  # (checked before --ship replaces the shipped one)
        parser.error(f"{envelope_path} is not the shipped NCAP's circuit (configs/ncap_spiking.yaml)")
    if args.ship:
        ship(envelope_path)
    genomes = {"single": single, "envelope": envelope, "paper": paper_genome(spec)}
    seeds = [EPISODE_SEED + e for e in range(args.episodes)]
    rows = []
    print("| links | link (m) | gear (N·m) | viscosity (Pa·s) | density | single body: return (worst episode) | "
          "body envelope | paper init | net speed (m/s): single / envelope / paper |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for body in SwimmerEnvelope().bodies(args.seed, args.bodies):
        links = body.pop("n_links")
        body_spec, retargeted, io = retarget_population(spec, np.stack(list(genomes.values())), links)
        result = swim(body_spec, retargeted, io, links, seeds, env_kwargs=body)
        returns = result.copy_returns.reshape(len(genomes), len(seeds))
        row = {"n_links": links, **body}
        for k, key in enumerate(genomes):
            row[key] = {"return": float(result.returns[k]), "worst_episode": float(returns[k].min()),
                        "net_speed": float(result.net_speeds[k])}
        rows.append(row)
        s, e, p = (row[key] for key in genomes)
        print(f"| {links} | {body['link_length']:.3f} | {body['gear']:.2e} | {body['viscosity']:.1e} | "
              f"{body['density']:.0f} | {s['return']:.0f} ({s['worst_episode']:.0f}) | {e['return']:.0f} "
              f"({e['worst_episode']:.0f}) | {p['return']:.0f} | {s['net_speed']:.4f} / {e['net_speed']:.4f} / "
              f"{p['net_speed']:.4f} |", flush=True)
    figures: dict[str, dict] = {}
    paper = np.array([row["paper"]["return"] for row in rows])
    for key, (label, trained_on) in CONTROLLERS.items():
        values = np.array([row[key]["return"] for row in rows])
        speeds = np.array([row[key]["net_speed"] for row in rows])
        ratio = ratios(values, paper)  # NaN on a body where the paper's circuit returns <= 0
        valid = ratio[~np.isnan(ratio)]
        figures[key] = {"label": label, "evolved_on": trained_on, "return": summary(values),
                        "worst_episode": float(min(row[key]["worst_episode"] for row in rows)),
                        "net_speed": summary(speeds), "forward": int((speeds > FORWARD_M_S).sum()),
                        "ratio_to_paper_init": {**summary(ratio), "best": float(valid.max()) if len(valid) else
                                                float("nan"), "bodies": len(valid)}}
    document = {
        "benchmark": "ncap_bodies",
        "artifacts": {"single": relative(SHIPPED["swimmer_ncap"]), "envelope": relative(envelope_path)},
        "envelope": dataclasses.asdict(SwimmerEnvelope()),
        "body_seed": args.seed,
        "episode_seeds": seeds,
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
        "rows": rows,
        "controllers": figures,
    }
    s, e, p = (figures[key] for key in CONTROLLERS)
    line, document["result"] = result_line("ncap_bodies", {
        "bodies": len(rows), "single_median": (s["return"]["median"], ".0f"),
        "single_worst": (s["return"]["worst"], ".0f"), "envelope_median": (e["return"]["median"], ".0f"),
        "envelope_worst": (e["return"]["worst"], ".0f"), "paper_median": (p["return"]["median"], ".0f"),
        "paper_worst": (p["return"]["worst"], ".0f"), "single_ratio_worst": s["ratio_to_paper_init"]["worst"],
        "envelope_ratio_worst": e["ratio_to_paper_init"]["worst"]})
    write_json(output, document)
    for f in figures.values():
        print(f"{f['label']}: return median {f['return']['median']:.0f}, worst body {f['return']['worst']:.0f}, "
              f"worst episode {f['worst_episode']:.0f}; forward on {f['forward']} of {len(rows)}; per body "
              f"{f['ratio_to_paper_init']['worst']:.2f}x-{f['ratio_to_paper_init']['best']:.2f}x the paper init's "
              f"(median {f['ratio_to_paper_init']['median']:.2f}x)")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
