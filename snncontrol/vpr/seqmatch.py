"""SeqSLAM-style sequence matching over a similarity matrix, reported separately from single-image results.

Each query row is normalized (zero mean, unit std over places); the sequence score of (q, p) is the mean of
the normalized similarities along the diagonal (q + k, p + k), k = -L/2 .. L/2 (constant velocity 1 place
per frame), over the entries inside the matrix. L = `length` frames (odd, at most the shorter traversal's
count; 1 returns the normalized matrix); another length is a VprConfigError line.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from snncontrol.vpr.errors import VprConfigError


def sequence_similarity(sim: torch.Tensor, length: int) -> torch.Tensor:
    """[Q, P] -> [Q, P] sequence-matched similarity."""
    if length < 1 or length % 2 == 0:
        raise VprConfigError(f"sequence length must be a positive odd number of frames, got {length}")
    if length > min(sim.shape):
        raise VprConfigError(f"sequence length {length} is longer than the route ({sim.shape[0]} query and "
                             f"{sim.shape[1]} reference places)")
    z = (sim - sim.mean(dim=1, keepdim=True)) / sim.std(dim=1, keepdim=True).clamp_min(1e-9)
    kernel = torch.eye(length, dtype=z.dtype)[None, None]
    pad = length // 2
    total = F.conv2d(z[None, None], kernel, padding=pad)[0, 0]
    count = F.conv2d(torch.ones_like(z)[None, None], kernel, padding=pad)[0, 0]
    return total / count
