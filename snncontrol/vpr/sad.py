"""Baseline: sum of absolute differences between patch-normalized images (same preprocessing as the SNN).

similarity = -mean |query - reference| over pixels (0..255 units; higher is more similar), [Q, P].
"""

from __future__ import annotations

import torch


def sad_similarity(query: torch.Tensor, reference: torch.Tensor, chunk: int = 512) -> torch.Tensor:
    """query [Q, D], reference [P, D] (preprocessed) -> [Q, P]."""
    return torch.cat([-torch.cdist(q, reference, p=1) / reference.shape[1] for q in query.split(chunk)])
