"""Place recognition benchmark: SNN ensemble vs SAD on a generated MuJoCo route.

Renders a route (`sim_envs.routes`: reference "day", calibration "fog", query "dusk+autumn"; >= 1,000
places by default), trains the ensemble on the reference with epochs and T chosen on the calibration
traversal, answers the query traversal with the rate pass (batched) and measures
- Recall@1/5/10, PR-AUC and recall at 100 % precision (tolerance 1 frame) for the SNN and SAD;
- training seconds and queries per second (batched, and one at a time through `Matcher.query`);
- agreement of the rate pass with the full spiking pass on `--agreement` queries (same top-1 place), next to
  the agreement of two spiking passes with different Poisson seeds (the noise floor).
Writes benchmarks/results/vpr.json and ends with a RESULT line.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import torch

from sim_envs.routes import generate_route
from snncontrol.vpr import inference
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.datasets.folders import load_folder
from snncontrol.vpr.evaluate import evaluate
from snncontrol.vpr.preprocess import preprocess
from snncontrol.vpr.query import Matcher
from snncontrol.vpr.train import Calibration, train

RESULTS = Path(__file__).parent / "results" / "vpr.json"
TRAVERSALS = ["day", "fog", "dusk+autumn"]  # reference, calibration, query


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--present-ms", type=float, default=ModuleConfig.present)
    parser.add_argument("--agreement", type=int, default=64, help="queries run through the spiking pass too")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--route", default="/tmp/snncontrol_vpr_route")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    start = time.perf_counter()
    route = generate_route(args.route, args.places, TRAVERSALS, seed=args.seed)
    render_s = time.perf_counter() - start
    ref, cal, query = (torch.from_numpy(preprocess(load_folder(route / name).images)) for name in TRAVERSALS)
    truth = torch.arange(args.places)

    module_cfg = ModuleConfig(present=args.present_ms)
    ens, report = train(ref, module_cfg, TrainConfig(epochs=args.epochs), args.seed, Calibration(cal, truth))
    matcher = Matcher(ens)
    results, _ = evaluate(matcher, ref, query, truth, tolerance=1)

    images = load_folder(route / TRAVERSALS[2]).images[:50]
    start = time.perf_counter()
    for image in images:
        matcher.query(image[None])
    single_hz = len(images) / (time.perf_counter() - start)

    sample = query[torch.linspace(0, args.places - 1, args.agreement).long()]
    rate_top = inference.similarity(ens, inference.rate_responses(ens, sample)).argmax(1)
    start = time.perf_counter()
    spike_a = inference.similarity(ens, inference.spiking_responses(ens, sample, seed=1)).argmax(1)
    spiking_hz = len(sample) / (time.perf_counter() - start)
    spike_b = inference.similarity(ens, inference.spiking_responses(ens, sample, seed=2)).argmax(1)

    out = {
        "places": args.places,
        "traversals": dict(zip(("reference", "calibration", "query"), TRAVERSALS, strict=True)),
        "render_s": render_s,
        "train_s": report["train_s"],
        "epochs": report["epochs"],
        "threshold": report["threshold"],
        "assigned_neurons": report["assigned_neurons"],
        "snn": results["snn"],
        "sad": results["sad"],
        "query_hz_batched": results["snn"]["queries_per_s"],
        "query_hz_single": single_hz,
        "spiking_query_hz": spiking_hz,
        "agreement_rate_vs_spiking": float((rate_top == spike_a).float().mean()),
        "agreement_spiking_vs_spiking": float((spike_a == spike_b).float().mean()),
        "threads": args.threads,
        "present_ms": args.present_ms,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))
    print(
        f"RESULT vpr places={args.places} recall_at_1={results['snn']['recall_at_1']:.3f} "
        f"sad_recall_at_1={results['sad']['recall_at_1']:.3f} train_s={report['train_s']:.1f} "
        f"query_hz={out['query_hz_batched']:.0f}"
    )


if __name__ == "__main__":
    main()
