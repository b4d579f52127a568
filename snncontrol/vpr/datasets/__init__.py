"""Place-recognition datasets: a traversal is a sequence of images, one per place, in route order.

Sources: image folders (`folders.py`) and ROS 2 bags (`bags.py`); `open_traversal` picks by path. A
reference and a query traversal are paired by index or by a ground-truth CSV (`folders.read_ground_truth`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Applied to each image as it is decoded (e.g. `preprocess.shrink`); the traversal keeps only its results.
Transform = Callable[[np.ndarray], np.ndarray]


@dataclass
class Traversal:
    """Images uint8 [H, W] or [H, W, 3] (or what the loader's `Transform` made of each), one per place, and a
    name per image (file name or stamp)."""

    source: str
    images: list[np.ndarray]
    names: list[str]
    stamps: list[float] = field(default_factory=list)  # s, when known (bags)

    def __len__(self) -> int:
        return len(self.images)


def is_bag(path: Path) -> bool:
    """A rosbag2 directory (metadata.yaml) or a bare .mcap / .db3 file."""
    return (path.is_dir() and (path / "metadata.yaml").is_file()) or path.suffix in (".mcap", ".db3")


def open_traversal(
    path: str | Path,
    topic: str = "/camera/image_raw",
    every_s: float | None = None,
    every_m: float | None = None,
    odom_topic: str | None = None,
    transform: Transform | None = None,
) -> Traversal:
    """An image folder or a ROS 2 bag (sampling options apply to bags only), each image passed through
    `transform` as it is decoded (the full-resolution frames are not kept)."""
    from snncontrol.vpr.datasets import bags, folders

    path = Path(path)
    if is_bag(path):
        return bags.load_bag(path, topic, every_s=every_s, every_m=every_m, odom_topic=odom_topic, transform=transform)
    return folders.load_folder(path, transform)
