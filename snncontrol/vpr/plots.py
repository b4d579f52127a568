"""PNG figures of an evaluation: precision-recall curves and a similarity matrix (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch

from snncontrol.vpr.metrics import PrCurve


def plot_pr(curves: dict[str, PrCurve], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(4.5, 4))
    for name, curve in curves.items():
        ax.plot(curve.recall, curve.precision, label=f"{name} (AUC {curve.auc:.2f})")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02), title="precision-recall")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_similarity(sim: torch.Tensor, path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(5, 4.5))
    image = ax.imshow(sim.numpy(), aspect="auto", interpolation="nearest", cmap="viridis")
    ax.set(xlabel="reference place", ylabel="query", title=title)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
