"""Appearance conditions of a traversal: time of day, season, fog, moved objects, pose jitter.

A condition is named by presets joined with '+', e.g. ``day``, ``dusk+autumn``, ``night+winter+fog``; later
presets override what earlier ones set. Units: light directions are unit-free vectors, colours rgb in [0, 1],
fog distances in m, jitter in m (lateral) and rad (yaw).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from sim_envs.routes.world import WorldObject


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
    "fog": {"fog": (4.0, 45.0)},
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
    """The objects recoloured for `condition` (rgb multiplied by the category's tint, clipped to [0, 1])."""
    out = []
    for obj in objects:
        tint = condition.tint.get(obj.category)
        if tint is not None:
            rgb = np.clip(np.asarray(obj.rgba[:3]) * tint, 0.0, 1.0)
            obj = replace(obj, rgba=(*(round(float(c), 3) for c in rgb), obj.rgba[3]))
        out.append(obj)
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
