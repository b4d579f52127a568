"""Place recognition benchmark: SNN ensemble vs SAD on a generated MuJoCo route.

Renders a route (`sim_envs.routes`: reference "day", calibration "fog", query "dusk+autumn" by default, or
the query conditions given with `--queries`; >= 1,000 places by default), trains the ensemble on the reference
(or on several: `--reference day dusk`, each module learning its places in all of them, SAD matching the
closest of them; a reference is never also a query) with epochs and T chosen on the calibration traversal,
answers each query traversal with the rate pass (batched) and measures, per query condition (the first also
as the top-level figures)
- Recall@1/5/10, PR-AUC and recall at 100 % precision (tolerance 1 frame) for the SNN and SAD, and the same
  after sequence matching (`--seq-len` frames, reported separately);
- training seconds, queries per second (batched, and one at a time through `Matcher.query`) and the peak
  resident memory of the process (MiB), e.g. at 10,000 places: `--places 10000 --route /tmp/vpr10k`;
- the rate pass side by side with the simulated spiking network on `--agreement` reference images and as
  many queries of every condition: the spiking query mode (`Matcher(mode="spiking")`: regular input spikes for
  `inference.SPIKING_PRESENT_MS` through input synapses scaled by `inference.SPIKING_INPUT_GAIN`, the place
  from the spike times), and for the record the network under the
  expected input current and under Poisson input for the training presentation (same winner per module, same
  top place; two Poisson runs with different seeds for the noise floor; Recall@1 of each pass on the sample).
Prints each stage's seconds and the peak memory so far (loading, training, each condition's evaluation: SNN,
SAD, sequence matching, metrics). Writes benchmarks/results/vpr.json, vpr_pr.png and vpr_similarity.png
(`--name` for another stem); ends with a RESULT line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import torch

from sim_envs.routes import generate_route
from snncontrol.seeding import seed32_argument
from snncontrol.vpr import inference, metrics, module, plots
from snncontrol.vpr.cli import threads_argument
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.datasets.folders import load_folder
from snncontrol.vpr.ensemble import Ensemble
from snncontrol.vpr.errors import VprConfigError
from snncontrol.vpr.evaluate import evaluate
from snncontrol.vpr.preprocess import preprocess
from snncontrol.vpr.query import Matcher
from snncontrol.vpr.seqmatch import check_length
from snncontrol.vpr.train import Calibration, train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import integer, machine_info, output_file, ratio, result_line

from snncontrol.atomic import json_ready, write_json

RESULTS = Path(__file__).parent / "results"
#: The spiking side-by-side figures of a run without a sample (`--agreement 0`, e.g. at 10,000 places).
EMPTY_SAMPLE = {"rate_recall_at_1": float("nan"), "spiking_recall_at_1": float("nan"),
                "poisson_recall_at_1": float("nan")}
#: The harder query conditions of issue #17 (`--queries hard`), each evaluated on its own.
HARD_QUERIES = [
    "dusk+autumn", "night+lamps+windows", "dusk+lamps+windows", "heavy_fog", "snow", "rain", "day+jitter",
    "summer", "moved+parked", "day+pass2",
]  # fmt: skip


def route_traversals(references: list[str], calibration: str, asked: list[str]) -> tuple[list[str], list[str]]:
    """(the traversals to render, in order; the query conditions to evaluate). The order is the first reference,
    the calibration, the asked queries, then any other reference, whatever the references: a traversal's pose
    jitter and moved objects follow its place in the list, so a second reference taken from the queries keeps
    the images of the one-reference run. A reference or the calibration is never also a query (dropped from the
    queries: their images were trained or tuned on)."""
    if len(set(references)) != len(references) or calibration in references:
        raise SystemExit(f"--reference {' '.join(references)}: each once, and not the calibration {calibration}")
    trained_on = [*references, calibration]
    queries = [name for name in asked if name not in trained_on]
    if not queries:
        raise SystemExit(
            f"--queries {' '.join(asked)}: every query is also a reference or the calibration; give other --queries"
        )
    rendered = list(dict.fromkeys([references[0], calibration, *asked, *references[1:]]))  # each once, in order
    return rendered, queries


def segmented_route(
    path: Path, places: int, segments: int, seed: int, traversals: list[str], reuse: bool
) -> tuple[list[Path], float]:
    """`segments` routes of places / segments places each (seeds seed, seed + 1, ...: other streets), rendered
    under path/seg_K, and the seconds spent: one route of N places is one scene, whose rendering slows with its
    length (1,000 places: 38 frames/s; 10,000: about 5), so 10,000 places are ten streets of 1,000."""
    if places % segments:
        raise SystemExit(f"--places {places} must be a multiple of --segments {segments}")
    if segments == 1:
        single, seconds = route(path, places, seed, traversals, reuse)
        return [single], seconds
    rendered = [route(path / f"seg_{k}", places // segments, seed + k, traversals, reuse) for k in range(segments)]
    return [part for part, _ in rendered], sum(seconds for _, seconds in rendered)


def traversal_images(parts: list[Path], name: str) -> np.ndarray:
    """The images of traversal `name` of every segment, end to end (place indices continue across segments)."""
    return np.concatenate([load_folder(part / name).images for part in parts])


def route(path: Path, places: int, seed: int, traversals: list[str], reuse: bool) -> tuple[Path, float]:
    """The rendered route and the seconds spent rendering it (0 when an identical one was reused)."""
    meta = path / "route.json"
    if reuse and meta.is_file():
        known = json.loads(meta.read_text())
        if (known["places"], known["seed"], known["traversals"]) == (places, seed, traversals):
            return path, 0.0
    start = time.perf_counter()
    try:
        generate_route(path, places, traversals, seed=seed, bags=None)
    except FileExistsError as exc:  # e.g. a --segments run's folders at the default --route path
        raise SystemExit(f"vpr: {exc}") from None
    return path, time.perf_counter() - start


def side_by_side(ens: Ensemble, images: torch.Tensor, truth: torch.Tensor) -> dict[str, float]:
    """The rate pass against the simulated network on `images` (compact ensemble: same answers, less work).

    A count readout over `present` ms ties many places (module winners firing the same number of spikes), so
    besides "same top place" (first of the tied ones) it reports whether the rate pass's place is among the
    simulation's tied top places, and how many places tie."""
    images = module.inputs(ens.module, images)
    rate = inference.rate_responses(ens, images)
    top = inference.similarity(ens, rate).argmax(1)
    runs = {"expected_input": inference.spiking_responses(ens, images, encoding="current")}
    start = time.perf_counter()
    runs["spiking"] = inference.spiking_responses(
        ens, images, present_ms=inference.SPIKING_PRESENT_MS, input_gain=inference.SPIKING_INPUT_GAIN
    )
    spiking_hz = len(images) / (time.perf_counter() - start)
    runs["poisson"] = inference.spiking_responses(ens, images, seed=1, encoding="poisson")
    again = inference.similarity(ens, inference.spiking_responses(ens, images, seed=2, encoding="poisson")).argmax(1)
    live = rate.amax(-1) > 0  # modules with a responding neuron
    out: dict[str, float] = {
        "images": len(images),
        "rate_recall_at_1": metrics.recall_at(inference.similarity(ens, rate), truth, 1, tolerance=1),
    }
    for name, responses in runs.items():
        sim = inference.similarity(ens, responses)
        best = sim.max(1, keepdim=True).values
        out |= {
            f"{name}_same_module_winner": float((responses.argmax(-1) == rate.argmax(-1))[live].float().mean()),
            f"{name}_same_top_place": float((sim.argmax(1) == top).float().mean()),
            f"{name}_rate_place_among_top_ties": float((sim.gather(1, top[:, None]) == best).float().mean()),
            f"{name}_tied_top_places": float((sim == best).sum(1).float().mean()),
            f"{name}_winner_rate_error_hz": float((responses.amax(-1) - rate.amax(-1)).abs().max()),
            f"{name}_recall_at_1": metrics.recall_at(sim, truth, 1, tolerance=1),  # ties counted against it
        }
    out["poisson_vs_poisson_same_top_place"] = float(
        (inference.similarity(ens, runs["poisson"]).argmax(1) == again).float().mean()
    )
    out["spiking_queries_per_s"] = spiking_hz
    return out


def peak_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(name: str, start: float) -> dict[str, float]:
    """Print and return a stage's seconds (since `start`) and the peak memory so far."""
    figures = {"s": round(time.perf_counter() - start, 1), "peak_memory_mib": round(peak_mib())}
    print(f"{name}: {figures['s']} s, peak memory {figures['peak_memory_mib']} MiB", flush=True)
    return figures


def lowest_first(value: float) -> float:
    """A sort key of a ratio that puts NaN (no ratio: a zero peer) after every number."""
    return math.inf if math.isnan(value) else value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=integer(1, 1_000_000), default=1000)
    parser.add_argument("--segments", type=integer(1, 1000), default=1,
                        help="render the places as this many separate streets")
    parser.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    parser.add_argument("--present-ms", type=float, default=ModuleConfig.present)
    parser.add_argument("--on-off", action="store_true", help="ON/OFF input channels (ModuleConfig.channels = 2)")
    parser.add_argument("--agreement", type=integer(0), default=100,
                        help="reference images and queries run spiking too (0: none; at most --places)")
    parser.add_argument("--seq-len", type=int, default=5,
                        help="frames of sequence matching (reported apart; odd, 3 .. --places)")
    parser.add_argument("--threads", type=threads_argument, default=1)
    parser.add_argument("--name", default="vpr", help="results file stem: benchmarks/results/NAME.json, NAME_pr.png")
    parser.add_argument("--route", type=Path, default=Path("/tmp/snncontrol_vpr_route"))
    parser.add_argument("--reuse-route", action="store_true", help="keep an identical route already rendered there")
    parser.add_argument("--seed", type=seed32_argument, default=0)
    parser.add_argument("--reference", nargs="+", default=["day"], help="reference traversal(s) of the places")
    parser.add_argument("--calibration", default="fog")
    parser.add_argument("--queries", nargs="+", default=["dusk+autumn"],
                        help="query conditions, each evaluated on its own; 'hard' for the harder set")  # fmt: skip
    args = parser.parse_args(argv)
    if args.places % args.segments:
        parser.error(f"--places {args.places} must be a multiple of --segments {args.segments}")
    if args.agreement > args.places:
        parser.error(f"--agreement {args.agreement} must be at most --places {args.places}")
    if args.seq_len < 3:  # (1 is no sequence matching, whose figures are reported)
        parser.error(f"--seq-len must be an odd number of frames >= 3, got {args.seq_len}")
    flag = "--seq-len"
    try:  # the checks training and matching would make, made before the route is rendered
        check_length(args.seq_len, args.places)
        flag = "--present-ms"
        module_cfg = ModuleConfig(present=args.present_ms, channels=2 if args.on_off else 1)
        flag = "--epochs"
        train_cfg = TrainConfig(epochs=args.epochs)
    except VprConfigError as exc:
        parser.error(f"{flag}: {exc}")
    output = output_file(parser, RESULTS / f"{args.name}.json", "--name")
    for suffix in ("_pr.png", "_similarity.png"):
        output_file(parser, RESULTS / f"{args.name}{suffix}", "--name")
    machine = machine_info()  # (its load average: before the work)
    torch.set_num_threads(args.threads)
    traversals, queries = route_traversals(
        args.reference, args.calibration, HARD_QUERIES if args.queries == ["hard"] else args.queries
    )

    parts, render_s = segmented_route(args.route, args.places, args.segments, args.seed, traversals, args.reuse_route)
    start = time.perf_counter()
    refs = [torch.from_numpy(preprocess(traversal_images(parts, name))) for name in args.reference]
    ref = torch.stack(refs)  # [R, P, pixels]
    cal = torch.from_numpy(preprocess(traversal_images(parts, args.calibration)))
    truth = torch.arange(args.places)
    stages = {"load": stage("load and preprocess the reference and calibration images", start)}

    start = time.perf_counter()
    ens, report = train(ref, module_cfg, train_cfg, args.seed, Calibration(cal, truth))
    stages["train"] = stage("train", start)
    matcher = Matcher(ens)
    sample = torch.linspace(0, args.places - 1, args.agreement).long()
    live = ens.compact()
    conditions = {}
    for name in reversed(queries):  # the first query last: its results and similarity matrices are kept
        start = time.perf_counter()
        query = torch.from_numpy(preprocess(traversal_images(parts, name)))
        results, sims = evaluate(matcher, ref, query, truth, tolerance=1, seq_len=args.seq_len)
        spiking = side_by_side(live, query[sample], sample) if args.agreement else EMPTY_SAMPLE
        conditions[name] = {
            **{key: results[key]["recall_at_1"] for key in results},
            "snn_over_sad": ratio(results["snn"]["recall_at_1"], results["sad"]["recall_at_1"]),
            "sample_rate_recall_at_1": spiking["rate_recall_at_1"],
            "sample_spiking_recall_at_1": spiking["spiking_recall_at_1"],
            "spiking_over_rate": ratio(spiking["spiking_recall_at_1"], spiking["rate_recall_at_1"]),
            "sample_poisson_recall_at_1": spiking["poisson_recall_at_1"],
        }
        print(
            f"{name:<22} R@1 SNN {results['snn']['recall_at_1']:.3f}  SAD {results['sad']['recall_at_1']:.3f}  "
            f"SNN+seq {results['snn+seq']['recall_at_1']:.3f}  SAD+seq {results['sad+seq']['recall_at_1']:.3f}  "
            f"sample: rate {spiking['rate_recall_at_1']:.2f}, spiking {spiking['spiking_recall_at_1']:.2f}, "
            f"Poisson {spiking['poisson_recall_at_1']:.2f}"
        )
        stages[f"evaluate {name}"] = stage(f"evaluate {name}", start)
    conditions = {name: conditions[name] for name in queries}

    images = traversal_images(parts, queries[0])[:100]
    rounds = []  # one query at a time, as the ROS node asks: 3 rounds of 100, the median rate
    for _ in range(3):
        start = time.perf_counter()
        for image in images:
            matcher.query(image[None])
        rounds.append(len(images) / (time.perf_counter() - start))
    single_hz = float(np.median(rounds))

    agreement = {"reference": side_by_side(live, refs[0][sample], sample) if args.agreement else EMPTY_SAMPLE,
                 "query": spiking}  # (the first query's)

    out = {
        "places": args.places,
        "segments": args.segments,
        "traversals": {"reference": args.reference[0] if len(refs) == 1 else args.reference,
                       "calibration": args.calibration, "query": queries[0]},
        "render_s": render_s,
        "train_s": report["train_s"],
        "epochs": report["epochs"],
        "threshold": report["threshold"],
        "calibration": report["calibration"],
        "assigned_neurons": report["assigned_neurons"],
        "hyperactive_neurons": report["hyperactive_neurons"],
        **{name: results[name] for name in results},
        "query_hz_batched": results["snn"]["queries_per_s"],
        "query_hz_single": single_hz,
        "rate_vs_spiking": agreement,
        "conditions": conditions,
        "threads": args.threads,
        "present_ms": args.present_ms,
        "channels": module_cfg.channels,
        "load_average_1min": os.getloadavg()[0],
        "machine": machine,
        "peak_memory_mib": peak_mib(),
        "stages": stages,
    }
    worst = min(conditions, key=lambda name: lowest_first(conditions[name]["snn_over_sad"]))
    answered = [name for name in conditions if conditions[name]["sample_rate_recall_at_1"] > 0]  # nan: no sample
    worst_spiking = min(answered, key=lambda name: lowest_first(conditions[name]["spiking_over_rate"]),
                        default=queries[0])
    line, out["result"] = result_line("vpr", {
        "places": args.places, "recall_at_1": (results["snn"]["recall_at_1"], ".3f"),
        "sad_recall_at_1": (results["sad"]["recall_at_1"], ".3f"), "train_s": (report["train_s"], ".1f"),
        "query_hz": (out["query_hz_batched"], ".0f"), "query_hz_single": (single_hz, ".0f"),
        "peak_memory_mib": (out["peak_memory_mib"], ".0f"), "conditions": len(conditions),
        "worst_snn_over_sad": conditions[worst]["snn_over_sad"], "worst_condition": worst,
        "worst_spiking_over_rate": conditions[worst_spiking]["spiking_over_rate"],
        "worst_spiking_condition": worst_spiking})
    write_json(output, out)
    curves = {name: metrics.pr_curve(sim, truth, 1) for name, sim in sims.items()}
    plots.plot_pr(curves, RESULTS / f"{args.name}_pr.png")
    if args.places <= 2000:  # a larger matrix is a grey square at any figure size
        plots.plot_similarity(sims["snn"], RESULTS / f"{args.name}_similarity.png", "SNN ensemble similarity")
    print(json.dumps(json_ready(out), indent=1))
    print(line)


if __name__ == "__main__":
    main()
