"""`snncontrol vpr train|eval|query`: place recognition with SNN ensembles on image folders or ROS 2 bags.

    snncontrol vpr train --reference ROUTE/day [ROUTE/dusk ...] --calibration ROUTE/fog --out ens/ [--epochs 3]
    snncontrol vpr eval ens/ --reference ROUTE/day [ROUTE/dusk ...] --query ROUTE/dusk+autumn [--ground-truth gt.csv]
                        [--tolerance 1] [--seq-len 5] [--out-dir results/]
    snncontrol vpr query ens/ image1.png image2.jpg ... [--mode poisson --seed 1]

A traversal argument is an image folder or a rosbag2 directory (mcap or sqlite3); for bags, --topic,
--every-s / --every-m and --odom-topic choose images and sampling. Several reference traversals of the same
places (aligned by index, as the paper's two: Nordland spring and fall) train every module on each place's
images in all of them; SAD then matches a query against each place's closest reference image. Images trained or
tuned on are no test (`heldout.py`): a calibration traversal that shares images with a reference, a query that
shares images with a reference or the ensemble's calibration traversal (`vpr train` records the paths and the
images' fingerprints of both in the ensemble), and references that share images with each other are refused;
so are a `vpr eval --reference` that is not, image for image, a reference the ensemble was trained on, an
--out-dir that is (or lies in) a traversal or holds images, and a --tolerance of as many frames as places. Each
image is shrunk as it is read (`preprocess.shrink`): no full-resolution frame is kept.
"""

from __future__ import annotations

import argparse
import json
from functools import partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from snncontrol import atomic
from snncontrol.seeding import seed32_argument
from snncontrol.vpr import plots
from snncontrol.vpr.artifact import JSON_FILE, TENSOR_FILE, recorded_fingerprints, recorded_sources, save_ensemble
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.datasets import Traversal, is_bag, open_traversal
from snncontrol.vpr.datasets.folders import align, image_files, read_image
from snncontrol.vpr.errors import DatasetError, VprConfigError
from snncontrol.vpr.evaluate import evaluate
from snncontrol.vpr.heldout import Fingerprints, fingerprints, refuse_path, refuse_shared, refuse_untrained
from snncontrol.vpr.metrics import check_tolerance, pr_curve
from snncontrol.vpr.preprocess import normalize, shrink
from snncontrol.vpr.query import Matcher
from snncontrol.vpr.seqmatch import check_length
from snncontrol.vpr.train import Calibration, train

REFERENCE_HELP = "traversal(s) of the same places, aligned by index"
MODE_HELP = "rate pass (default), the spiking network on regular input spikes, or on Poisson input"
SEED_HELP = "seed of the Poisson input of --mode poisson (default 0), each query drawing fresh noise"
TRAINED_ON = f"a reference the ensemble was trained on ({JSON_FILE})"
TUNED_ON = f"the ensemble's calibration traversal ({JSON_FILE})"
PLOTS = ("pr.png", "similarity.png")  # the images `vpr eval --out-dir` writes


def threads_argument(text: str) -> int:
    """An argparse type for a `--threads` option: an integer >= 1 (torch refuses 0 threads)."""
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise argparse.ArgumentTypeError(f"a thread count is an integer >= 1, got {text!r}")
    return threads


def _source_args(parser: argparse.ArgumentParser) -> None:
    bag = parser.add_argument_group("ROS 2 bags")
    bag.add_argument("--topic", default="/camera/image_raw", help="image topic (Image or CompressedImage)")
    bag.add_argument("--every-s", type=float, help="sample one place every this many seconds")
    bag.add_argument("--every-m", type=float, help="sample one place every this many metres (needs --odom-topic)")
    bag.add_argument("--odom-topic", help="nav_msgs/Odometry or sensor_msgs/NavSatFix topic")


def _mode_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=("rate", "spiking", "poisson"), default="rate", help=MODE_HELP)
    parser.add_argument("--seed", type=seed32_argument, help=SEED_HELP)


def _matcher(args: argparse.Namespace) -> Matcher:
    """The ensemble's matcher in `--mode`; VprConfigError where --seed is given to a mode that draws nothing."""
    if args.seed is not None and args.mode != "poisson":
        raise VprConfigError(f"--seed seeds the Poisson input of --mode poisson; --mode {args.mode} draws nothing")
    return Matcher.load(args.ensemble, args.mode, 0 if args.seed is None else args.seed)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    parser.add_argument(
        "--threads", type=threads_argument, default=1, help="torch CPU threads (default 1: small tensors)"
    )
    p = sub.add_parser("train", help="train an ensemble on one or more reference traversals")
    p.add_argument("--reference", required=True, nargs="+", help=REFERENCE_HELP)
    p.add_argument("--calibration", help="traversal (aligned with the first reference) to choose epochs and T on")
    p.add_argument("--calibration-ground-truth", help="query,reference CSV for the calibration traversal")
    p.add_argument("--out", required=True, help="artifact directory to write")
    p.add_argument("--epochs", type=int, default=TrainConfig.epochs)
    p.add_argument("--places-per-module", type=int, default=TrainConfig.places_per_module)
    p.add_argument("--threshold", type=int, default=None,
                   help=f"T without calibration (default {TrainConfig.threshold}: none silenced)")
    p.add_argument("--tolerance", type=int, default=None,
                   help=f"frames: how far a calibration match may lie (default {TrainConfig.tolerance})")
    p.add_argument("--n-exc", type=int, default=ModuleConfig.n_exc)
    p.add_argument("--present-ms", type=float, default=ModuleConfig.present)
    p.add_argument("--on-off", action="store_true", help="two inputs per pixel, x and 255 - x (ON/OFF channels)")
    p.add_argument("--seed", type=seed32_argument, default=0)
    _source_args(p)
    p = sub.add_parser("eval", help="evaluate an ensemble (and SAD) on reference(s) and a query")
    p.add_argument("ensemble")
    p.add_argument("--reference", required=True, nargs="+", help=REFERENCE_HELP + " (SAD matches all)")
    p.add_argument("--query", required=True)
    p.add_argument("--ground-truth", help="query,reference CSV against the first reference (default: by index)")
    p.add_argument("--tolerance", type=int, default=1, help="frames")
    p.add_argument("--seq-len", type=int, default=0, help="also report sequence matching over this many frames")
    _mode_args(p)
    p.add_argument("--out-dir", help="write metrics.json, pr.png, similarity.png here")
    _source_args(p)
    p = sub.add_parser("query", help="match image files against an ensemble")
    p.add_argument("ensemble")
    p.add_argument("images", nargs="+")
    _mode_args(p)


def _check_sampling(args: argparse.Namespace, paths: list[str]) -> None:
    """VprConfigError where bag sampling options are given but no traversal is a bag (they would be ignored)."""
    given = [f"--{name.replace('_', '-')}" for name in ("every_s", "every_m", "odom_topic")
             if getattr(args, name) is not None]
    if given and not any(is_bag(Path(path)) for path in paths):
        raise VprConfigError(f"{', '.join(given)} sample ROS 2 bags, and every traversal here is an image folder")


def _load(path: str, args: argparse.Namespace, cfg: ModuleConfig) -> Traversal:
    """The traversal at `path`, each image shrunk to cfg.image_size^2 gray values as it is read
    (`preprocess.shrink`): no full-resolution frame is kept."""
    return open_traversal(path, args.topic, every_s=args.every_s, every_m=args.every_m, odom_topic=args.odom_topic,
                          transform=partial(shrink, size=cfg.image_size))


def _pixels(traversal: Traversal, cfg: ModuleConfig) -> torch.Tensor:
    """The preprocessed images [P, pixels] of a traversal `_load` read (`preprocess.normalize`)."""
    return torch.from_numpy(normalize(traversal.images, cfg.patch))


def _references(args: argparse.Namespace, cfg: ModuleConfig) -> tuple[list[Traversal], torch.Tensor, Fingerprints]:
    """The reference traversals, their pixels [R, P, pixels] (train, evaluate and SAD take one as R = 1) and the
    fingerprints of all their images, traversal after traversal. A DatasetError line for a later reference whose
    count differs from the first's or that shares images with an earlier one (the same traversal twice)."""
    first, *others = (_load(path, args, cfg) for path in args.reference)
    for other in others:
        if len(other) != len(first):
            raise DatasetError(
                f"reference {other.source} has {len(other)} images but reference {first.source} has {len(first)}: "
                "several references must show the same places in the same order"
            )
    references = [first, *others]
    pixels = torch.stack([_pixels(reference, cfg) for reference in references])
    prints = [fingerprints(part) for part in pixels]
    for k, reference in enumerate(references):
        earlier = {f"--reference {references[j].source}": prints[j] for j in range(k)}
        refuse_shared("--reference", reference, prints[k], earlier)
    return references, pixels, [fingerprint for part in prints for fingerprint in part]


def _train(args: argparse.Namespace) -> int:
    module_cfg = ModuleConfig(n_exc=args.n_exc, present=args.present_ms, channels=2 if args.on_off else 1)
    if args.calibration and args.threshold is not None:  # (it was recorded, and the calibration's T used)
        raise VprConfigError("--threshold is T without calibration; with --calibration T is chosen on it: leave "
                             "--threshold out, or the calibration")
    if not args.calibration and args.tolerance is not None:
        raise VprConfigError("--tolerance sets how far a calibration match may lie: give --calibration with it")
    train_cfg = TrainConfig(
        places_per_module=args.places_per_module, epochs=args.epochs,
        threshold=TrainConfig.threshold if args.threshold is None else args.threshold,
        tolerance=TrainConfig.tolerance if args.tolerance is None else args.tolerance,
    )
    if args.calibration_ground_truth and not args.calibration:
        raise VprConfigError("--calibration-ground-truth aligns the calibration traversal: give --calibration too")
    _check_sampling(args, [*args.reference, *([args.calibration] if args.calibration else [])])
    # the output checked now, not after the training (minutes at 10,000 places) whose result it would refuse
    atomic.writable_directory(args.out, {TENSOR_FILE, JSON_FILE})
    if args.calibration:
        refuse_path("--calibration", args.calibration, {"a --reference": args.reference})
    references, pixels, reference_prints = _references(args, module_cfg)
    calibration, calibration_prints = None, []
    if args.calibration:
        cal = _load(args.calibration, args, module_cfg)
        truth = align(references[0], cal, args.calibration_ground_truth, "calibration")
        calibration = Calibration(_pixels(cal, module_cfg), torch.from_numpy(truth))
        calibration_prints = fingerprints(calibration.pixels)
        refuse_shared("--calibration", cal, calibration_prints, {"a --reference": reference_prints})
    places = len(references[0])
    per_module = train_cfg.for_places(places).places_per_module  # (as train sizes its modules)
    modules = -(-places // per_module)
    images = train_cfg.epochs * per_module * modules * len(references)
    with tqdm(total=images, unit="img", desc="train") as bar:
        ens, report = train(pixels, module_cfg, train_cfg, args.seed, calibration, bar.update)
    if report["hyperactive_neurons"] >= report["assigned_neurons"]:  # (saved, it answered place 0 to everything)
        raise VprConfigError(f"T={report['threshold']} silences every one of the {report['assigned_neurons']} "
                             "assigned neurons (each won that many reference images or more): nothing would answer; "
                             "give a higher --threshold (0: none silenced)")
    sources = [str(Path(path).resolve()) for path in args.reference]
    ens.metadata["reference"] = sources[0] if len(sources) == 1 else sources
    ens.metadata["calibration"] = str(Path(args.calibration).resolve()) if args.calibration else None
    ens.metadata["image_sha256"] = {"reference": reference_prints, "calibration": calibration_prints}
    save_ensemble(args.out, ens)
    print(
        f"trained {modules} modules on {places} places ({len(references)} reference traversal(s)) in "
        f"{report['train_s']:.1f} s: epochs={report['epochs']} T={report['threshold']} "
        f"assigned={report['assigned_neurons']} silenced={report['hyperactive_neurons']} -> {args.out}"
    )
    return 0


def _check_out_dir(out_dir: str, traversals: dict[str, list[str]]) -> None:
    """VprConfigError unless `out_dir` can take `vpr eval`'s metrics.json and PLOTS: not a file, not one of
    `traversals` (what they are -> paths) nor inside one, and holding no images other than PLOTS (its plots
    would become images of a traversal, or sit among them); then it is created and checked writable."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise VprConfigError(f"--out-dir {out_dir} is a file, not a directory")
    target = out.resolve()
    for role, paths in traversals.items():
        for path in (Path(p).resolve() for p in paths):
            if target.is_relative_to(path):
                where = "" if target == path else f"inside {path}, "
                raise VprConfigError(f"--out-dir {out_dir} is {where}{role}: give a folder of its own")
    images = [p.name for p in image_files(out) if p.name not in PLOTS] if out.is_dir() else []
    if images:
        raise VprConfigError(f"--out-dir {out_dir} holds {len(images)} image(s) (the first: {images[0]}), as a "
                             "traversal does: give a folder of its own")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VprConfigError(f"--out-dir {out_dir}: {exc.strerror or exc}") from None
    atomic.check_can_create_in(out, out)


def _eval(args: argparse.Namespace) -> int:
    if args.tolerance < 0 or args.seq_len < 0:  # now, not after loading every traversal
        raise VprConfigError(f"--tolerance and --seq-len must be >= 0 frames, got {args.tolerance} and {args.seq_len}")
    _check_sampling(args, [*args.reference, args.query])
    matcher = _matcher(args)
    places = matcher.ensemble.places
    check_tolerance(args.tolerance, places, "--tolerance")
    if args.seq_len > 1:  # now, not after loading and matching every image
        check_length(args.seq_len, places)
    recorded = recorded_sources(matcher.ensemble.metadata)
    if args.out_dir:  # checked now, not after the evaluation whose results go there
        _check_out_dir(args.out_dir, {"a traversal of this evaluation": [*args.reference, args.query],
                                      TRAINED_ON: recorded["reference"], TUNED_ON: recorded["calibration"]})
    refuse_path("--query", args.query,
                {"a --reference": args.reference, TRAINED_ON: recorded["reference"], TUNED_ON: recorded["calibration"]})
    cfg = matcher.ensemble.module
    references, ref_pixels, reference_prints = _references(args, cfg)
    query = _load(args.query, args, cfg)
    truth = torch.from_numpy(align(references[0], query, args.ground_truth))
    query_pixels = _pixels(query, cfg)
    recorded_prints = recorded_fingerprints(matcher.ensemble.metadata) or {"reference": [], "calibration": []}
    refuse_shared("--query", query, fingerprints(query_pixels), {
        "a --reference": reference_prints,
        TRAINED_ON: recorded_prints["reference"],
        TUNED_ON: recorded_prints["calibration"],
    })
    if recorded_prints["reference"]:  # (none recorded: an ensemble written before `vpr train` recorded them)
        trained_on = f"{JSON_FILE}: {', '.join(recorded['reference']) or 'paths not recorded'}"
        for k, reference in enumerate(references):
            prints = reference_prints[k * len(reference) : (k + 1) * len(reference)]
            refuse_untrained("--reference", reference, prints, recorded_prints["reference"], places, trained_on)
    with tqdm(total=len(query), unit="query", desc="match", delay=0.5) as bar:  # no bar before a quick error
        results, sims = evaluate(matcher, ref_pixels, query_pixels, truth, args.tolerance, args.seq_len, bar.update)
    print(f"{'method':<10} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'PR-AUC':>7} {'R@100P':>7}")
    for name, r in results.items():
        print(
            f"{name:<10} {r['recall_at_1']:6.3f} {r['recall_at_5']:6.3f} {r['recall_at_10']:6.3f} "
            f"{r['pr_auc']:7.3f} {r['recall_at_100_precision']:7.3f}"
        )
    if args.out_dir:
        out = Path(args.out_dir)
        atomic.write_text(out / "metrics.json", json.dumps(results, indent=1) + "\n")
        plots.plot_pr({k: pr_curve(v, truth, args.tolerance) for k, v in sims.items()}, out / "pr.png")
        plots.plot_similarity(sims["snn"], out / "similarity.png", "SNN ensemble similarity")
        print(f"wrote {out}/metrics.json, pr.png, similarity.png")
    return 0


def _query(args: argparse.Namespace) -> int:
    matcher = _matcher(args)
    cfg = matcher.ensemble.module  # each image shrunk as it is read: no full-resolution frame kept (12 MB each)
    small = [shrink(read_image(Path(p)), cfg.image_size) for p in args.images]
    places, confidence = matcher.answers(torch.from_numpy(normalize(small, cfg.patch)))
    for name, place, conf in zip(args.images, places, confidence, strict=True):
        print(f"{name}\tplace={int(place)}\tconfidence={float(conf):.3f}")
    return 0


def run(args: argparse.Namespace) -> int:
    np.seterr(all="ignore")
    torch.set_num_threads(args.threads)
    return {"train": _train, "eval": _eval, "query": _query}[args.action](args)
