"""Baseline: sum of absolute differences between patch-normalized images (same preprocessing as the SNN).

similarity = -mean |query - reference| over pixels (0..255 units; higher is more similar), [Q, P]; with several
reference traversals of the same places, a place's similarity is that of its closest reference image.
"""

from __future__ import annotations

from functools import reduce

import torch


def sad_similarity(query: torch.Tensor, reference: torch.Tensor, chunk: int = 512) -> torch.Tensor:
    """query [Q, D], reference [P, D] or [R, P, D] (preprocessed; R traversals of P places) -> [Q, P]."""
    references = reference[None] if reference.ndim == 2 else reference
    one = (torch.cat([-torch.cdist(q, ref, p=1) / ref.shape[1] for q in query.split(chunk)]) for ref in references)
    return reduce(torch.maximum, one)  # a running maximum: two [Q, P] matrices at a time, whatever R
