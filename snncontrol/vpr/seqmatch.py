"""SeqSLAM-style sequence matching over a similarity matrix, reported separately from single-image results.

Each query row is normalized (zero mean, unit std over places); the sequence score of (q, p) is the mean of
the normalized similarities along the diagonal (q + k, p + k), k = -L/2 .. L/2 (constant velocity 1 place
per frame), over the entries inside the matrix. L = `length` frames (odd, at most the shorter traversal's
count; 1 returns the normalized matrix); another length is a VprConfigError line.
"""

from __future__ import annotations

import torch

from snncontrol.vpr.errors import VprConfigError


def check_length(length: int, places: int, queries: int | None = None) -> None:
    """A VprConfigError line unless `length` (frames) is odd, >= 1 and at most `places` (the reference's count)
    and `queries` (the query traversal's, when known): callers check before the matching whose result it
    would refuse."""
    if length < 1 or length % 2 == 0:
        raise VprConfigError(f"sequence length must be a positive odd number of frames, got {length}")
    if length > (places if queries is None else min(places, queries)):
        counts = f"{places} reference places" if queries is None else f"{queries} query and {places} reference places"
        raise VprConfigError(f"sequence length {length} is longer than the route ({counts})")


def sequence_similarity(sim: torch.Tensor, length: int) -> torch.Tensor:
    """[Q, P] -> [Q, P] sequence-matched similarity. Memory: three [Q, P] matrices (the diagonal sums are
    shifted slices added in place; a convolution would unfold length^2 copies of the matrix, 10 GB at 10,000
    places)."""
    check_length(length, sim.shape[1], sim.shape[0])
    z = (sim - sim.mean(dim=1, keepdim=True)) / sim.std(dim=1, keepdim=True).clamp_min(1e-9)
    total, count = torch.zeros_like(z), torch.zeros_like(z)
    rows, cols = z.shape
    for k in range(-(length // 2), length // 2 + 1):  # (q, p) += z[q + k, p + k] where it exists
        target = (slice(max(0, -k), rows - max(0, k)), slice(max(0, -k), cols - max(0, k)))
        total[target] += z[max(0, k) : rows - max(0, -k), max(0, k) : cols - max(0, -k)]
        count[target] += 1.0
    return total / count
