"""Figures of closed-loop runs (matplotlib, Agg backend: no display needed). Written atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from snncontrol import atomic
from snncontrol.evaluation.blimp_flight import Flight


def save_figure(fig: plt.Figure, path: str | os.PathLike[str]) -> Path:
    """Render `fig` to `path` (format from the suffix, PNG by default), atomically, and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, format=Path(path).suffix.lstrip(".") or "png")
    plt.close(fig)
    return atomic.write_bytes(path, buffer.getvalue())


def plot_flight(flights: dict[str, Flight], path: str | os.PathLike[str], spikes: np.ndarray | None = None) -> Path:
    """Altitude and set-point, command, and (if given, [T, n]) the SNN's spike raster, one row each."""
    rows = 3 if spikes is not None else 2
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.6 * rows), sharex=True, constrained_layout=True)
    first = next(iter(flights.values()))
    axes[0].plot(first.times, first.setpoint, "k--", lw=1, label="set-point")
    for name, flight in flights.items():
        axes[0].plot(flight.times, flight.altitude, lw=1.2, label=name)
        axes[1].plot(flight.times, flight.command, lw=0.8, label=name)
    axes[0].set_ylabel("altitude (m)")
    axes[0].legend(loc="lower right", fontsize=8)
    axes[1].set_ylabel("command u")
    axes[1].axhspan(-0.1, 0.1, color="0.9", label="dead zone")
    if spikes is not None:
        t_index, neuron = np.nonzero(spikes)
        axes[2].scatter(first.times[t_index], neuron, s=6, c="k", marker="|", linewidths=0.6)
        axes[2].set_ylabel("neuron")
        axes[2].set_ylim(-0.5, spikes.shape[1] - 0.5)
    axes[-1].set_xlabel("time (s)")
    return save_figure(fig, path)


def plot_envelope(
    per_plant: dict[str, dict[str, dict[str, dict[str, list[float]]]]], path: str | os.PathLike[str]
) -> Path:
    """Steady-state error (cm, per plant) against hover command, one panel per plant model: SNN and PID, calm
    (filled) and disturbed (hollow). `per_plant[model][condition][controller]` holds the lists "hover_command"
    and "ss_error_cm" (e.g. `ControllerFigures.per_plant` gathered over the bands)."""
    fig, axes = plt.subplots(1, len(per_plant), figsize=(5.5 * len(per_plant), 3.8), sharey=True,
                             constrained_layout=True, squeeze=False)
    colors = {"SNN": "tab:blue", "PID": "tab:orange"}
    for ax, (model, by_condition) in zip(axes[0], per_plant.items(), strict=True):
        for condition, by_controller in by_condition.items():
            for name, values in by_controller.items():
                color = colors.get(name, "k")
                face = color if condition == "calm" else "none"
                ax.scatter(values["hover_command"], values["ss_error_cm"], s=18, facecolors=face, edgecolors=color,
                           label=f"{name}, {condition}")
        ax.set_title(f"{model} plant")
        ax.set_xlabel("hover command (command units of 3.3)")
        positive = [v for d in by_condition.values() for c in d.values() for v in c["ss_error_cm"] if v > 0]
        if positive:  # (a log scale of nothing positive is an error)
            ax.set_yscale("log")
        ax.grid(True, which="both", lw=0.3)
    axes[0][0].set_ylabel("steady-state error per plant (cm)")
    axes[0][-1].legend(fontsize=8)
    return save_figure(fig, path)
