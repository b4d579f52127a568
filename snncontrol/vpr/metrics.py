"""Place-recognition metrics on a similarity matrix sim [Q, P] (higher = more similar) and the true place of
each query truth [Q]. A match is correct when |place - truth| <= `tolerance` (frames).

- Recall@N: share of queries with a correct place among their N most similar places.
- Precision-recall: each query's best match is accepted when its similarity reaches a threshold; sweeping
  it gives precision (correct / accepted) and recall (correct accepted / all queries); AUC is the area under
  that curve (step-wise, as average precision); recall at 100 % precision is the largest recall reached
  before the first wrong acceptance.
All values dimensionless in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def _check(sim: torch.Tensor, truth: torch.Tensor) -> None:
    if sim.ndim != 2 or truth.shape != (sim.shape[0],):
        raise ValueError(f"similarity [Q, P] and truth [Q] expected, got {list(sim.shape)} and {list(truth.shape)}")


def recall_at(sim: torch.Tensor, truth: torch.Tensor, n: int, tolerance: int = 0) -> float:
    """Recall@n."""
    _check(sim, truth)
    top = sim.topk(min(n, sim.shape[1]), dim=1).indices
    return float(((top - truth[:, None]).abs() <= tolerance).any(dim=1).float().mean())


@dataclass(frozen=True)
class PrCurve:
    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray  # similarity of the last accepted best match at each point
    auc: float
    recall_at_100_precision: float


def pr_curve(sim: torch.Tensor, truth: torch.Tensor, tolerance: int = 0) -> PrCurve:
    """Precision-recall over the best-match similarity; tied similarities are accepted together."""
    _check(sim, truth)
    score, best = sim.max(dim=1)
    correct = ((best - truth).abs() <= tolerance).double().numpy()
    order = np.argsort(-score.double().numpy(), kind="stable")
    score_sorted, correct = score.double().numpy()[order], correct[order]
    ends = np.flatnonzero(np.r_[score_sorted[1:] != score_sorted[:-1], True])  # last index of each tie group
    hits = np.cumsum(correct)[ends]
    accepted = ends + 1.0
    precision, recall = hits / accepted, hits / len(truth)
    auc = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    perfect = precision >= 1.0 - 1e-12
    r100 = float(recall[np.flatnonzero(~perfect)[0] - 1]) if not perfect.all() else float(recall[-1])
    if not perfect[0]:
        r100 = 0.0
    return PrCurve(precision, recall, score_sorted[ends], auc, r100)


def summarize(sim: torch.Tensor, truth: torch.Tensor, tolerance: int = 0) -> dict[str, float]:
    """Recall@1/5/10, PR AUC and recall at 100 % precision."""
    curve = pr_curve(sim, truth, tolerance)
    out = {f"recall_at_{n}": recall_at(sim, truth, n, tolerance) for n in (1, 5, 10)}
    out.update(pr_auc=curve.auc, recall_at_100_precision=curve.recall_at_100_precision)
    return out
