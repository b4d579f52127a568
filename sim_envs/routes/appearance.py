"""Appearance conditions of a traversal: time of day, lights, season, weather, changed objects, pose jitter.

A condition is named by presets joined with '+', e.g. ``day``, ``dusk+autumn``, ``night+winter+fog``; later
presets override what earlier ones set. Units: light directions are unit-free vectors, colours rgb in [0, 1],
fog distances in m, jitter in m (lateral) and rad (yaw), object densities per 100 m of road.

Presets (`PRESETS`): times of day ``day``, ``dusk``, ``night``; lights ``lamps`` (a glowing head on every pole:
street lamps) and ``windows`` (lit windows on every building), so ``night+lamps+windows`` is a night with
the lights on and ``dusk+lamps+windows`` a dusk with them; seasons ``spring`` (light green and blossom),
``summer`` (dark green), ``autumn``, ``winter``; weather ``fog``, ``heavy_fog``, ``snow`` (white ground, roofs
and trees, bright haze), ``rain`` (overcast, wet dark road with highlights, haze); changes ``moved`` (25 % of
boxes and poles moved instead of 8 %), ``parked`` (new parked cars along the road), ``jitter`` (three times the
camera's lateral and yaw jitter); and ``pass2``, which changes nothing: a second pass under the same condition
(``day+pass2``, e.g. for calibration). Every traversal after a route's first also has moved objects and pose
jitter (`sim_envs.routes`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sim_envs.routes.world import Path, WorldObject, place


@dataclass(frozen=True)
class Condition:
    """How one traversal looks. `tint` multiplies the rgb of objects by category (missing: unchanged)."""

    name: str = "day"
    sun_dir: tuple[float, float, float] = (0.3, 0.4, -1.0)
    sun_diffuse: tuple[float, float, float] = (0.8, 0.8, 0.75)
    ambient: tuple[float, float, float] = (0.35, 0.35, 0.35)
    headlight: tuple[float, float, float] = (0.1, 0.1, 0.1)
    sky: tuple[tuple[float, float, float], tuple[float, float, float]] = ((0.45, 0.65, 0.95), (0.85, 0.9, 1.0))
    ground: tuple[float, float, float] = (0.3, 0.5, 0.2)
    tint: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    fog: tuple[float, float] | None = None  # (start, end) in m
    fog_rgb: tuple[float, float, float] = (0.7, 0.7, 0.72)
    lamps: bool = False  # a glowing head on every pole
    windows: bool = False  # lit windows on every building
    wet_road: bool = False  # a dark road with specular highlights
    moved_fraction: float = 0.08  # of boxes and poles, moved in traversals after the first
    parked_per_100m: float = 0.0  # parked cars added along the road
    jitter_scale: float = 1.0  # times the camera pose jitter of traversals after the first


PRESETS: dict[str, dict] = {
    "day": {},
    "dusk": {
        "sun_dir": (-0.9, 0.2, -0.25),
        "sun_diffuse": (0.75, 0.45, 0.25),
        "ambient": (0.2, 0.16, 0.18),
        "sky": ((0.35, 0.2, 0.35), (0.95, 0.55, 0.3)),
    },
    "night": {
        "sun_dir": (0.0, 0.0, -1.0),
        "sun_diffuse": (0.05, 0.05, 0.08),
        "ambient": (0.06, 0.06, 0.09),
        "headlight": (0.55, 0.55, 0.5),
        "sky": ((0.02, 0.02, 0.06), (0.08, 0.08, 0.15)),
    },
    "autumn": {
        "ground": (0.45, 0.4, 0.2),
        "tint": {"foliage": (3.2, 1.1, 0.5)},
    },
    "winter": {
        "ground": (0.88, 0.9, 0.92),
        "tint": {"foliage": (3.5, 1.6, 5.0), "roof": (1.9, 3.2, 3.8), "box": (1.3, 1.3, 1.4)},
        "sky": ((0.7, 0.72, 0.78), (0.9, 0.9, 0.92)),
    },
    "spring": {"ground": (0.35, 0.6, 0.25), "tint": {"foliage": (1.6, 1.5, 1.9)}},
    "summer": {"ground": (0.25, 0.42, 0.15), "tint": {"foliage": (0.7, 0.85, 0.6)}},
    "fog": {"fog": (4.0, 45.0)},
    "heavy_fog": {"fog": (1.0, 18.0), "fog_rgb": (0.75, 0.75, 0.77)},
    "snow": {
        "ground": (0.92, 0.93, 0.95),
        "tint": {"foliage": (4.0, 1.8, 5.5), "roof": (2.2, 3.6, 4.2), "box": (1.6, 1.6, 1.7), "road": (2.5, 2.5, 2.4)},
        "sky": ((0.75, 0.76, 0.8), (0.92, 0.92, 0.94)),
        "fog": (6.0, 70.0),
        "fog_rgb": (0.9, 0.9, 0.92),
    },
    "rain": {
        "sun_diffuse": (0.4, 0.4, 0.42),
        "ambient": (0.25, 0.25, 0.27),
        "sky": ((0.4, 0.42, 0.45), (0.6, 0.62, 0.65)),
        "tint": {"road": (0.5, 0.5, 0.5)},
        "wet_road": True,
        "fog": (8.0, 90.0),
        "fog_rgb": (0.55, 0.56, 0.58),
    },
    "lamps": {"lamps": True},
    "windows": {"windows": True},
    "moved": {"moved_fraction": 0.25},
    "parked": {"parked_per_100m": 8.0},
    "jitter": {"jitter_scale": 3.0},
    "pass2": {},
}


def parse_condition(name: str) -> Condition:
    """The condition named by presets joined with '+' (ValueError naming an unknown preset)."""
    condition = Condition(name=name)
    for part in name.split("+"):
        if part not in PRESETS:
            raise ValueError(f"unknown appearance preset {part!r} in {name!r} (known: {', '.join(PRESETS)})")
        overrides = dict(PRESETS[part])
        if "tint" in overrides:
            overrides["tint"] = {**condition.tint, **overrides["tint"]}
        condition = replace(condition, **overrides)
    return condition


def restyle(objects: tuple[WorldObject, ...], condition: Condition) -> list[WorldObject]:
    """The objects recoloured for `condition` (rgb multiplied by the category's tint, clipped to [0, 1]); a wet
    road is shiny."""
    out = []
    for obj in objects:
        tint = condition.tint.get(obj.category)
        if tint is not None:
            rgb = np.clip(np.asarray(obj.rgba[:3]) * tint, 0.0, 1.0)
            obj = replace(obj, rgba=(*(round(float(c), 3) for c in rgb), obj.rgba[3]))
        if condition.wet_road and obj.category in ("road", "marking"):
            obj = replace(obj, material="wet")
        out.append(obj)
    return out


WINDOW_RGBA = (1.0, 0.85, 0.55, 1.0)
LAMP_RGBA = (1.0, 0.95, 0.7, 1.0)


def lights(objects: list[WorldObject], condition: Condition) -> list[WorldObject]:
    """The glowing objects `condition` switches on: a lamp head (0.3 m sphere) on top of every pole, and on every
    building 2 x 2 windows (1.0 x 1.2 m) on each of its two long walls. Deterministic: the same windows and
    lamps in every traversal that has them."""
    out = []
    for obj in objects:
        if condition.lamps and obj.category == "pole":
            x, y, z = obj.pos
            out.append(WorldObject("lamp", "sphere", (x, y, z + obj.size[1] + 0.25), (0.3,), 0.0, LAMP_RGBA, "glow"))
        if condition.windows and obj.category == "building":
            out += _windows(obj)
    return out


def _windows(building: WorldObject) -> list[WorldObject]:
    """2 x 2 lit windows just outside each of the building's two walls along its local x axis."""
    x, y, _ = building.pos
    w, d, h = building.size
    cos, sin = np.cos(building.yaw), np.sin(building.yaw)
    out = []
    for side in (-1.0, 1.0):
        for along in (-0.5 * w, 0.5 * w):
            for z in (0.6 * h, 1.4 * h):
                local = np.array([along, side * (d + 0.05)])
                wx, wy = x + cos * local[0] - sin * local[1], y + sin * local[0] + cos * local[1]
                out.append(
                    WorldObject("window", "box", (float(wx), float(wy), z), (0.5, 0.04, 0.6), building.yaw,
                                WINDOW_RGBA, "glow")
                )  # fmt: skip
    return out


def parked_cars(path: Path, length: float, per_100m: float, rng: np.random.Generator) -> list[WorldObject]:
    """New parked cars at the road's edges (3.8 m from the centre line, either side): about `per_100m` per 100 m
    of road, each a body and a cabin of a random colour. Draws nothing from `rng` when `per_100m` is 0."""
    if per_100m <= 0:
        return []
    out = []
    for s in rng.uniform(10.0, length, size=round(per_100m * length / 100.0)):
        x, y, yaw = place(path, float(s), float(rng.choice([-3.8, 3.8])))
        rgba = (*(round(float(c), 3) for c in rng.uniform(0.05, 0.95, size=3)), 1.0)
        out.append(WorldObject("car", "box", (x, y, 0.55), (2.1, 0.9, 0.45), yaw, rgba))
        out.append(WorldObject("car", "box", (x, y, 1.25), (1.2, 0.8, 0.3), yaw, rgba))
    return out


def move_objects(objects: list[WorldObject], fraction: float, rng: np.random.Generator) -> list[WorldObject]:
    """A `fraction` of the movable objects (boxes, poles) displaced by 1-3 m in a random direction."""
    out = list(objects)
    movable = [k for k, obj in enumerate(out) if obj.category in ("box", "pole")]
    for k in rng.permutation(movable)[: round(fraction * len(movable))]:
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 3.0)
        x, y, z = out[k].pos
        out[k] = replace(out[k], pos=(x + dist * np.cos(angle), y + dist * np.sin(angle), z))
    return out
