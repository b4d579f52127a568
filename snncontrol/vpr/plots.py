"""PNG figures of an evaluation: precision-recall curves and a similarity matrix (matplotlib, Agg), each
written atomically."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from snncontrol import atomic
from snncontrol.vpr.metrics import PrCurve


def _save(fig: plt.Figure, path: Path) -> None:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    atomic.write_bytes(path, buffer.getvalue())


def plot_pr(curves: dict[str, PrCurve], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for name, curve in curves.items():
        ax.plot(curve.recall, curve.precision, label=f"{name} (AUC {curve.auc:.2f})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="precision-recall")
    ax.legend(loc="lower left")
    _save(fig, path)


def plot_similarity(sim: torch.Tensor, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 4.5))
    image = ax.imshow(sim.numpy(), aspect="auto", interpolation="nearest", cmap="viridis")
    ax.set(xlabel="reference place", ylabel="query", title=title)
    fig.colorbar(image, ax=ax)
    _save(fig, path)
