"""Unsupervised training of the ensemble: every module learns its own region with STDP, all modules at once.

Per epoch, slot k: module m is shown its k-th image (in a per-epoch random order) for `present` ms of Poisson
input while every other module is shown its own k-th image ([M, ...] tensors, one time loop for all). A module's
images are its places' images in every reference traversal: one per place with a single reference, one per
place and traversal with several (the paper trains on two: Nordland spring and fall, RobotCar sun and rain). Before
each image the input weights are normalized and the fast state returns to rest (what the `rest` period is
for); the adaptive thresholds decay over `rest`. With one winner per step (`module.py`), each image is
learned by the neuron that matches it best relative to its threshold; the threshold of a neuron that won
grows, so later epochs recruit further neurons for the same place.

After each epoch the frozen network is shown each module's images and each neuron is assigned to the place it
responds to most, summed over the reference traversals (Diehl & Cook), through the rate pass (`inference.py`,
the noise-free limit of the spiking network); neurons that win no place are silenced. Responses are taken at
the query-time thresholds (`Ensemble.thresholds`).

With a calibration split (query-like images with known places), the epoch (1..epochs) and the hyperactive
threshold T (from `TrainConfig.thresholds`) with the best calibration Recall@1 are kept; hyperactive counts
come from the rate pass over all reference images, per reference traversal (a neuron is hyperactive when it
wins T or more images of one traversal, on average over the traversals).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from snncontrol.encoders import PoissonEncoder
from snncontrol.seeding import MAX_SEED32, seed_everything
from snncontrol.vpr import inference, module
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.ensemble import Ensemble, place_table
from snncontrol.vpr.errors import DatasetError, VprConfigError
from snncontrol.vpr.metrics import check_tolerance, recall_at

Progress = Callable[[int], None]  # called with the number of images (slots x modules) presented so far


@dataclass(frozen=True)
class Calibration:
    """Calibration images ([Q, pixels] preprocessed, or [Q, n_in] the network's inputs: `module.inputs`) and
    the reference place index of each [Q]."""

    pixels: torch.Tensor
    truth: torch.Tensor


def _module_images(pixels: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """[M, S, n_in]: the rows of `pixels` that `table` [M, S] names; padding slots (-1) get an all-zero image."""
    padded = torch.cat([pixels, torch.zeros(1, pixels.shape[1])])  # the last row: no image
    return padded[table]


def image_table(table: torch.Tensor, places: int, traversals: int) -> torch.Tensor:
    """[M, R K]: the rows of each module's images in R reference traversals stacked traversal by traversal
    ([R P, ...]: traversal r's image of place p is row r P + p), its K places of traversal 0 first; -1 pads as
    in `table` [M, K]."""
    rows = torch.cat([table + r * places for r in range(traversals)], dim=1)
    return rows.masked_fill(table.repeat(1, traversals) < 0, -1)


def learn_epoch(
    cfg: ModuleConfig,
    weights: torch.Tensor,
    adaptation: torch.Tensor,
    pixels: torch.Tensor,
    table: torch.Tensor,
    seed: int,
    progress: Progress | None = None,
) -> torch.Tensor:
    """One epoch of STDP: every module is shown each of its images once (`table` [M, S]: rows of `pixels`, -1
    pads; all modules at once, in a random order per module); `weights` [M, n_in, N] are updated in place and
    normalized before each image and at the end. The order and each slot's Poisson input are drawn from `seed`
    (an integer >= 0; slot k's input from `inference.sub_seed(seed, 1009, k)`). Returns the adaptive thresholds
    [M, N] (mV) after the epoch."""
    c = module.constants(cfg)
    modules, slots = table.shape
    order = torch.argsort(torch.rand(modules, slots, generator=torch.Generator().manual_seed(seed)), dim=1)
    images = _module_images(pixels, table)
    theta = torch.full((modules, cfg.n_exc), c.theta_e)
    rest_decay = c.decay_th ** cfg.steps(cfg.rest)
    for k in range(slots):
        x = images[torch.arange(modules), order[:, k]]
        module.normalize(weights, cfg.w_total)
        state = module.rest_state((modules, cfg.n_exc), adaptation)
        traces = module.zero_traces(modules, cfg.n_in, cfg.n_exc)
        encoder = PoissonEncoder(cfg.rate_per_unit, inference.sub_seed(seed, 1009, k), shared_noise=False)
        enc = encoder.init_state(modules, cfg.n_in, cfg.dt / 1000.0, torch.float32)
        for _ in range(cfg.steps(cfg.present)):
            spikes, enc = encoder.step(x, enc)
            index, drive = module.gather_drive(weights, spikes, c.k_in)
            state = module.step(c, state, drive, theta, learn=True)
            traces = module.stdp(cfg, c, weights, traces, index, state.exc.s)
        adaptation = state.exc.a * rest_decay
        if progress is not None:
            progress(modules)
    module.normalize(weights, cfg.w_total)
    return adaptation


def assign(
    cfg: ModuleConfig, weights: torch.Tensor, pixels: torch.Tensor, table: torch.Tensor, traversals: int = 1
) -> torch.Tensor:
    """[M, N] global place each neuron responds to most among its module's places (`table` [M, K]), its
    responses summed over the `traversals` reference images of each place (`pixels` [R P, n_in], stacked as in
    `image_table`; frozen rate pass with the module's winner-take-all, base thresholds); -1 for a neuron that
    wins none of them."""
    places, uneven = divmod(len(pixels), traversals)
    if uneven or places <= int(table.max()):
        raise DatasetError(f"assign: {len(pixels)} reference rows are not {traversals} traversals of the places")
    images = _module_images(pixels, image_table(table, places, traversals))
    drive = torch.bmm(inference.spike_probability(cfg, images), weights)  # [M, R K, N]
    theta = torch.tensor(module.constants(cfg).theta_e)
    response = inference.winner_take_all(inference.firing_rate(cfg, drive, theta))
    best = response.view(len(table), traversals, *table.shape[1:], -1).sum(dim=1).max(dim=1)
    return table.gather(1, best.indices).masked_fill(best.values <= 0, -1)


def _assigned(ens: Ensemble) -> tuple[torch.Tensor, Ensemble, torch.Tensor]:
    """(keep [M, L], compact ensemble, its flat weights) of every assigned neuron, hyperactive or not: the
    neurons the rate passes of training need (`Ensemble.live_slots`, `Ensemble.compact`)."""
    probe = replace(ens, hyperactive=torch.zeros_like(ens.hyperactive))
    keep, _ = probe.live_slots()
    live = probe.compact()
    return keep, live, inference._flat_weights(live).contiguous()


def reference_counts(ens: Ensemble, pixels: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """[M, N]: for how many reference images (`pixels` [R P, n_in]: every traversal's) each neuron wins its
    module (rate pass, nothing hyperactive).
    Runs on the compact ensemble (the assigned neurons only, `Ensemble.compact`: same answers, ~N / 25 times
    less work); the other neurons never fire and count 0."""
    keep, live, flat = _assigned(ens)
    counts = torch.zeros(keep.shape)
    for start in range(0, len(pixels), chunk):
        counts += (inference.rate_responses(live, pixels[start : start + chunk], flat) > 0).sum(0)
    return torch.zeros(ens.modules, ens.module.n_exc).scatter_(1, keep, counts)


def calibrate(
    ens: Ensemble, counts: torch.Tensor, cal: Calibration, chunk: int = 256
) -> tuple[int, float, dict[int, float]]:
    """The threshold T with the best calibration Recall@1 (ties: the smallest T). Returns (T, recall, all).
    The rates of each chunk of calibration images are computed once, on the compact ensemble (memory
    [chunk, M, L], whatever the number of places); each T only silences more neurons."""
    keep, live, flat = _assigned(ens)
    masks = {t: ens.with_threshold(t, counts).hyperactive.gather(1, keep) for t in ens.train.thresholds}
    hits = dict.fromkeys(masks, 0)
    for start in range(0, len(cal.pixels), chunk):
        rates = inference.rate_all(live, cal.pixels[start : start + chunk], flat)
        truth = cal.truth[start : start + chunk]
        for threshold, hyperactive in masks.items():
            responses = inference.winner_take_all(rates.masked_fill(hyperactive, 0.0))
            recall = recall_at(inference.similarity(live, responses), truth, 1, ens.train.tolerance)
            hits[threshold] += round(recall * len(truth))  # whole images: no rounding residue across chunks
    scores = {threshold: hit / len(cal.pixels) for threshold, hit in hits.items()}
    best = max(scores, key=lambda t: (scores[t], -t))
    return best, scores[best], scores


def train(
    pixels: torch.Tensor,
    module_cfg: ModuleConfig,
    train_cfg: TrainConfig,
    seed: int,
    calibration: Calibration | None = None,
    progress: Progress | None = None,
) -> tuple[Ensemble, dict]:
    """Train an ensemble on reference images: preprocessed [P, pixels] (place p = row p) or [R, P, pixels], R
    traversals of the same P places (each module learns its places' images in all of them); the calibration
    images are [Q, pixels] with their places (a VprConfigError if train_cfg.tolerance >= P frames). `seed`
    (0..MAX_SEED32) seeds the initial weights; epoch e learns from seed + e (so epoch e + 1 of seed s draws what
    epoch e of seed s + 1 draws: docs/place_recognition.md). Returns the ensemble and a report (per-epoch
    calibration scores, chosen epoch and T, seconds)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED32:
        raise VprConfigError(f"the training seed must be an integer in 0..{MAX_SEED32}, got {seed!r}")
    if pixels.ndim == 2:
        pixels = pixels[None]
    if pixels.ndim != 3 or pixels.shape[2] != module_cfg.pixels:
        want = module_cfg.pixels
        raise DatasetError(f"reference images must be [P, {want}] or [R, P, {want}], got {list(pixels.shape)}")
    traversals, places = pixels.shape[:2]
    if places < 2:
        raise DatasetError(f"need at least 2 reference places, got {places}")
    if calibration is not None:  # the tolerance of the calibration's Recall@1
        check_tolerance(train_cfg.tolerance, places, "train.tolerance")
    train_cfg = train_cfg.for_places(places)
    seed_everything(seed)
    start = time.perf_counter()
    pixels = module.inputs(module_cfg, pixels.reshape(traversals * places, -1))  # the network's inputs, [R P, n_in]
    if calibration is not None:
        calibration = Calibration(module.inputs(module_cfg, calibration.pixels), calibration.truth)
    table = place_table(places, train_cfg.places_per_module)
    images = image_table(table, places, traversals)
    gen = torch.Generator().manual_seed(seed)
    weights = torch.rand(len(table), module_cfg.n_in, module_cfg.n_exc, generator=gen) * module_cfg.w_init_max
    adaptation = torch.zeros(len(table), module_cfg.n_exc)
    best: tuple[float, Ensemble] | None = None
    history = []
    for epoch in range(1, train_cfg.epochs + 1):
        adaptation = learn_epoch(module_cfg, weights, adaptation, pixels, images, seed + epoch, progress)
        ens = Ensemble(
            module_cfg,
            train_cfg,
            places,
            weights.clone(),
            adaptation.clone(),
            assign(module_cfg, weights, pixels, table, traversals),
            torch.zeros(len(table), module_cfg.n_exc, dtype=torch.bool),
            epochs=epoch,
        )
        ref_counts = reference_counts(ens, pixels) / traversals  # per traversal: T keeps its meaning
        if calibration is None:
            if epoch == train_cfg.epochs:
                best = (float("nan"), ens.with_threshold(train_cfg.threshold, ref_counts))
            continue
        threshold, score, scores = calibrate(ens, ref_counts, calibration)
        history.append({"epoch": epoch, "recall_at_1": scores})
        if best is None or score > best[0]:
            best = (score, ens.with_threshold(threshold, ref_counts))
    assert best is not None
    ens = best[1]
    report = {
        "epochs": ens.epochs,
        "threshold": ens.threshold,
        "calibration_recall_at_1": None if calibration is None else best[0],
        "calibration": history,
        "train_s": time.perf_counter() - start,
        "reference_traversals": traversals,
        "assigned_neurons": int((ens.assignments >= 0).sum()),
        "hyperactive_neurons": int(ens.hyperactive.sum()),
    }
    ens.metadata.update({"seed": seed, "training": report})
    return ens, report
