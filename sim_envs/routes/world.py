"""The procedural route world: a winding road through a landscape of buildings, trees, poles and boxes.

Everything is drawn deterministically from one seed. Units: m, rad. The road centre line is a smooth curve
(heading = a sum of a few low-frequency sines of the arc length); objects stand on both sides of the road at
3-20 m from the centre line, each with a category that appearance conditions act on (`appearance.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Object categories; the appearance conditions recolour by category (e.g. foliage in autumn).
CATEGORIES = ("building", "roof", "trunk", "foliage", "pole", "box", "road", "marking", "window", "lamp", "car")


@dataclass(frozen=True)
class Path:
    """Road centre line sampled every `step` m: positions xy [K, 2] (m) and headings yaw [K] (rad)."""

    xy: np.ndarray
    yaw: np.ndarray
    step: float

    def at(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Position [.., 2] (m) and heading [..] (rad) at arc lengths `s` (m), linearly interpolated."""
        u = np.clip(np.asarray(s, dtype=float) / self.step, 0, len(self.yaw) - 1.000001)
        k = np.floor(u).astype(int)
        f = u - k
        xy = self.xy[k] * (1 - f)[..., None] + self.xy[k + 1] * f[..., None]
        yaw = self.yaw[k] + f * np.angle(np.exp(1j * (self.yaw[k + 1] - self.yaw[k])))
        return xy, yaw


@dataclass(frozen=True)
class WorldObject:
    """One geom: MuJoCo type ('box', 'cylinder', 'sphere'), centre (m), half-sizes (m), yaw (rad), rgba, and the
    name of a material of `sim_envs.routes.render.MATERIALS` ("" for none: a plain diffuse surface)."""

    category: str
    kind: str
    pos: tuple[float, float, float]
    size: tuple[float, ...]
    yaw: float
    rgba: tuple[float, float, float, float]
    material: str = ""


@dataclass(frozen=True)
class World:
    path: Path
    objects: tuple[WorldObject, ...]
    length: float  # m of road


def make_path(length: float, rng: np.random.Generator, step: float = 0.5) -> Path:
    """A winding road of `length` m: heading rate (rad/m) is a sum of three sines with random periods."""
    s = np.arange(0.0, length + 2 * step, step)
    periods = rng.uniform(60.0, 400.0, size=3)
    amps = rng.uniform(0.004, 0.012, size=3)
    phases = rng.uniform(0, 2 * np.pi, size=3)
    rate = sum(a * np.sin(2 * np.pi * s / p + f) for a, p, f in zip(amps, periods, phases, strict=True))
    yaw = np.cumsum(rate) * step
    xy = np.cumsum(np.stack([np.cos(yaw), np.sin(yaw)], axis=1) * step, axis=0) - [step, 0.0]
    return Path(xy=xy, yaw=yaw, step=step)


def _color(rng: np.random.Generator, base: tuple[float, float, float], spread: float) -> tuple[float, ...]:
    rgb = np.clip(np.asarray(base) + rng.uniform(-spread, spread, size=3), 0.02, 0.98)
    return (*(round(float(c), 3) for c in rgb), 1.0)


def place(path: Path, s: float, offset: float) -> tuple[float, float, float]:
    """World xy (m) of the point `offset` m left of the road at arc length `s`, and the road heading there."""
    xy, yaw = path.at(np.array(s))
    return float(xy[0] - offset * np.sin(yaw)), float(xy[1] + offset * np.cos(yaw)), float(yaw)


def _landmark(path: Path, s: float, side: int, rng: np.random.Generator) -> list[WorldObject]:
    """One landmark (a building with roof, a tree, a pole or a box stack) beside the road at arc length s."""
    kind = rng.choice(["building", "tree", "tree", "pole", "box"])
    offset = side * {"building": rng.uniform(9, 20), "tree": rng.uniform(4, 12)}.get(str(kind), rng.uniform(3.5, 7))
    x, y, yaw = place(path, s, offset)
    turn = yaw + rng.uniform(-0.3, 0.3)
    if kind == "building":
        w, d, h = rng.uniform(2, 6), rng.uniform(2, 6), rng.uniform(2, 9)
        wall = _color(rng, (0.6, 0.55, 0.5), 0.35)
        roof = _color(rng, (0.45, 0.25, 0.2), 0.2)
        return [
            WorldObject("building", "box", (x, y, h), (w, d, h), turn, wall),
            WorldObject("roof", "box", (x, y, 2 * h + 0.3), (w * 1.05, d * 1.05, 0.3), turn, roof),
        ]
    if kind == "tree":
        h, r = rng.uniform(1.5, 4), rng.uniform(1.2, 3)
        return [
            WorldObject("trunk", "cylinder", (x, y, h / 2), (0.2, h / 2), 0.0, _color(rng, (0.35, 0.22, 0.1), 0.08)),
            WorldObject("foliage", "sphere", (x, y, h + r * 0.8), (r,), 0.0, _color(rng, (0.2, 0.5, 0.15), 0.12)),
        ]
    if kind == "pole":
        h = rng.uniform(3, 7)
        return [WorldObject("pole", "cylinder", (x, y, h / 2), (0.12, h / 2), 0.0, _color(rng, (0.5, 0.5, 0.5), 0.4))]
    size = rng.uniform(0.4, 1.5)
    return [WorldObject("box", "box", (x, y, size), (size, size, size), turn, _color(rng, (0.5, 0.5, 0.5), 0.45))]


def make_world(length: float, seed: int, density: float = 0.35) -> World:
    """The world for a road of `length` m: about `density` landmarks per m of road (both sides together)."""
    rng = np.random.default_rng(seed)
    path = make_path(length, rng)
    objects: list[WorldObject] = []
    gaps = rng.exponential(1.0 / density, size=int(length * density * 1.5) + 10)
    for s in np.cumsum(gaps):
        if s > length + 30:
            break
        objects += _landmark(path, float(s), int(rng.choice([-1, 1])), rng)
    seg = 4.0
    for s in np.arange(0.0, length + 30, seg):
        x, y, yaw = place(path, s + seg / 2, 0.0)
        objects.append(WorldObject("road", "box", (x, y, 0.01), (seg / 2 + 0.05, 3.0, 0.01), yaw, (0.2, 0.2, 0.22, 1)))
        if int(s / seg) % 2 == 0:
            objects.append(WorldObject("marking", "box", (x, y, 0.025), (seg / 4, 0.08, 0.01), yaw, (0.9, 0.9, 0.8, 1)))
    return World(path=path, objects=tuple(objects), length=length)
