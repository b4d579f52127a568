"""Place-recognition metrics on a similarity matrix sim [Q, P] (higher = more similar) and the true place of
each query truth [Q]. A match is correct when |place - truth| <= `tolerance` (frames): the places in that
window are the query's correct places, every other place is wrong.

Ties never count as a hit by luck. A query's rank is the number of wrong places that score at least as high as
its best correct place (`rank`: a wrong place tied with it is counted as ranked above it, whatever the place
order); a query whose places all score the same (no information) has rank P - (window size) and is a miss.
- Recall@N: share of queries of rank < N (the best correct place is strictly within the N most similar, ties
  broken against it).
- Precision-recall: each query's best match is accepted when its similarity (the row's maximum) reaches a
  threshold; it is correct when its rank is 0 (a top tie that includes a wrong place is wrong). Sweeping the
  threshold gives precision (correct / accepted) and recall (correct accepted / all queries); AUC is the area
  under that curve (step-wise, as average precision); recall at 100 % precision is the largest recall reached
  before the first wrong acceptance. Its recall at the lowest threshold is Recall@1.
All values dimensionless in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from snncontrol.vpr.errors import VprConfigError


def _check(sim: torch.Tensor, truth: torch.Tensor) -> None:
    if sim.ndim != 2 or truth.shape != (sim.shape[0],):
        raise ValueError(f"similarity [Q, P] and truth [Q] expected, got {list(sim.shape)} and {list(truth.shape)}")


def check_tolerance(tolerance: int, places: int, name: str = "tolerance") -> None:
    """VprConfigError naming `name` unless 0 <= `tolerance` < `places` frames: at places - 1 every place is
    already a correct match of every query (a larger tolerance is a typo: 1e8 once tried to allocate 96 GB)."""
    if not 0 <= tolerance < places:
        raise VprConfigError(f"{name} must be 0..{places - 1} frames (below the {places} reference places), "
                             f"got {tolerance}")


def rank(sim: torch.Tensor, truth: torch.Tensor, tolerance: int = 0, chunk: int = 1024) -> torch.Tensor:
    """[Q] int64: per query, how many wrong places (farther than `tolerance` frames from its true place) score
    >= its best correct place (NaN scores as -inf). Rows are compared `chunk` at a time (a [chunk, P] boolean
    each). A tolerance wider than every true place's distance to the far end of the row is clamped to that
    distance: the same window of places, so the same ranks, whatever the tolerance."""
    _check(sim, truth)
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0 frames, got {tolerance}")
    reach = sim.shape[1] - 1 + (int(truth.abs().max()) if len(truth) else 0)  # frames to the farthest place
    offsets = torch.arange(-min(tolerance, reach), min(tolerance, reach) + 1)
    out = []
    for rows, true in zip(sim.split(chunk), truth.split(chunk), strict=True):
        rows = rows.nan_to_num(nan=-torch.inf)
        window = true[:, None] + offsets  # [B, 2 tol + 1] correct places, some outside 0..P-1
        inside = (window >= 0) & (window < sim.shape[1])
        scores = rows.gather(1, window.clamp(0, sim.shape[1] - 1))
        best = scores.masked_fill(~inside, -torch.inf).amax(dim=1, keepdim=True)
        at_least = (rows >= best).sum(dim=1)
        out.append(at_least - ((scores >= best) & inside).sum(dim=1))
    return torch.cat(out)


def _recall(ranks: torch.Tensor, n: int) -> float:
    return float((ranks < n).double().mean())


def recall_at(sim: torch.Tensor, truth: torch.Tensor, n: int, tolerance: int = 0) -> float:
    """Recall@n: share of queries whose `rank` is below n."""
    return _recall(rank(sim, truth, tolerance), n)


@dataclass(frozen=True)
class PrCurve:
    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray  # similarity of the last accepted best match at each point
    auc: float
    recall_at_100_precision: float


def pr_curve(sim: torch.Tensor, truth: torch.Tensor, tolerance: int = 0, ranks: torch.Tensor | None = None) -> PrCurve:
    """Precision-recall over the best-match similarity; tied similarities are accepted together. `ranks` =
    `rank(sim, truth, tolerance)` when already computed."""
    _check(sim, truth)
    correct = ((rank(sim, truth, tolerance) if ranks is None else ranks) == 0).double().numpy()
    score = sim.amax(dim=1).double().numpy()
    order = np.argsort(-score, kind="stable")
    score_sorted, correct = score[order], correct[order]
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
    ranks = rank(sim, truth, tolerance)
    curve = pr_curve(sim, truth, tolerance, ranks)
    out = {f"recall_at_{n}": _recall(ranks, n) for n in (1, 5, 10)}
    out.update(pr_auc=curve.auc, recall_at_100_precision=curve.recall_at_100_precision)
    return out
