"""Evaluation of an ensemble against SAD on a reference/query pair: metrics, optional sequence matching."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from snncontrol.vpr import metrics
from snncontrol.vpr.errors import DatasetError, VprConfigError
from snncontrol.vpr.query import Matcher
from snncontrol.vpr.sad import sad_similarity
from snncontrol.vpr.seqmatch import check_length, sequence_similarity


def evaluate(
    matcher: Matcher,
    reference: torch.Tensor,
    query: torch.Tensor,
    truth: torch.Tensor,
    tolerance: int,
    seq_len: int = 0,
    progress: Callable[[int], None] | None = None,
    chunk: int = 256,
) -> tuple[dict[str, dict[str, float]], dict[str, torch.Tensor]]:
    """Metrics per method ("snn", "sad", and "snn+seq"/"sad+seq" when seq_len > 1) and their similarity
    matrices. reference [P, pixels] (or [R, P, pixels]: R traversals of the places, for SAD) and query
    [Q, pixels] are preprocessed; truth [Q] reference indices. Queries are matched `chunk` at a time;
    `progress` is called with the number of queries of each chunk. A negative `tolerance` (frames) or `seq_len`
    is a VprConfigError line, and so are a `tolerance` of as many frames as there are places or more
    (`metrics.check_tolerance`) and a `seq_len` > 1 that `seqmatch.check_length` refuses (before any
    matching)."""
    if tolerance < 0 or seq_len < 0:
        raise VprConfigError(f"tolerance and seq_len must be >= 0 frames, got {tolerance} and {seq_len}")
    places = matcher.ensemble.places
    metrics.check_tolerance(tolerance, places)
    if reference.shape[-2] != places:
        raise DatasetError(f"the ensemble was trained on {places} places but the reference has {reference.shape[-2]}")
    if seq_len > 1:
        check_length(seq_len, places, len(query))
    start = time.perf_counter()
    parts = []
    for batch in query.split(chunk):
        parts.append(matcher.similarity_of(batch))
        if progress is not None:
            progress(len(batch))
    sims = {"snn": torch.cat(parts)}
    query_s = time.perf_counter() - start
    sims["sad"] = sad_similarity(query, reference)
    if seq_len > 1:
        sims.update({f"{k}+seq": sequence_similarity(v, seq_len) for k, v in list(sims.items())})
    results = {name: metrics.summarize(sim, truth, tolerance) for name, sim in sims.items()}
    results["snn"]["queries_per_s"] = len(query) / max(query_s, 1e-9)
    return results, sims
