"""Procedural MuJoCo routes for place recognition: one world, several traversals under changed appearance.

`generate_route(out, places, traversals, seed)` builds a winding road with buildings, trees, poles and boxes
(`world.py`, all drawn from `seed`), then drives a camera along it once per traversal, one frame every
`spacing` m, each traversal under its own condition (`appearance.py`: time of day, street lamps and lit windows,
season colours, fog, snow, rain, moved and parked objects, stronger pose jitter; every traversal after the first
also has a few moved objects and small lateral/yaw pose offsets), rendered offscreen
(`render.py`, ``MUJOCO_GL=egl`` when headless). Deterministic per seed. Layout written under OUT:

    OUT/route.json                 seed, places, spacing (m), speed (m/s), image size, traversal names
    OUT/<traversal>/000000.png     one RGB frame per place, named by place index (6 digits)
    OUT/<traversal>/poses.csv      place, x (m), y (m), yaw (rad), time (s since the first frame)
    OUT/bags/<traversal>/          ROS 2 bag (mcap): sensor_msgs/msg/Image rgb8 on /camera/image_raw and
                                   nav_msgs/msg/Odometry on /odom, one each per frame, same stamps

Frame k of every traversal shows place k (the same arc length along the road), so traversals align by index.
This package imports neither torch nor snncontrol.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sim_envs import validation
from sim_envs.routes.appearance import Condition, lights, move_objects, parked_cars, parse_condition, restyle
from sim_envs.routes.render import camera_poses, render_frames, world_xml
from sim_envs.routes.world import make_world
from sim_envs.routes.writers import BAG_STORAGES, BagWriter, write_frame, write_poses

LATERAL_STD, YAW_STD = 0.35, np.radians(2.5)  # m, rad: pose jitter in traversals after the first (x jitter_scale)
ROUTE_FILE = "route.json"
MAX_PIXELS = 4096  # per side of a rendered frame


#: The longest route (m) one scene holds (places x spacing; the 10,000-place benchmark renders ten of 2 km).
MAX_ROUTE_M = 50_000.0


def generate_route(
    out: str | Path,
    places: int,
    traversals: list[str],
    seed: int,
    spacing: float = 2.0,
    speed: float = 10.0,
    width: int = 96,
    height: int = 72,
    bags: str | None = "mcap",
    progress: Callable[[str, int], None] | None = None,
) -> Path:
    """Render `places` frames `spacing` m apart (m) per traversal into `out`. Returns `out`.

    `traversals` are condition names (e.g. ``["day", "dusk+autumn"]``); `speed` (m/s) sets the timestamps;
    `bags` is "mcap", "sqlite3" (these need the optional ``rosbags`` package) or None (no bags).
    `progress(traversal, frames_done)` is called per frame.
    The route is rendered into a hidden sibling of `out` and renamed into place once complete, so a failure
    leaves what was there; an earlier route at `out` holding only what a route writes (or an empty directory) is
    replaced, anything else (also a route beside other files: an ensemble trained into it, results) is
    refused with FileExistsError before anything is rendered.
    """
    if isinstance(traversals, str) or not traversals or not all(isinstance(name, str) for name in traversals):
        raise ValueError(f"traversals must be a non-empty list of condition names, got {traversals!r:.80}")
    places = validation.integer_in("places", places, 1, 10**9)
    seed = validation.integer_in("seed", seed, 0, 2**63 - 1)
    width, height = (validation.integer_in(name, value, 1, MAX_PIXELS) for name, value in
                     (("width", width), ("height", height)))
    conditions = [parse_condition(name) for name in traversals]
    if bags is not None and bags not in BAG_STORAGES:
        raise ValueError(f"bags must be one of {', '.join(BAG_STORAGES)} or None, got {bags!r}")
    if len(set(traversals)) != len(traversals):
        raise ValueError(f"traversal names must be distinct, got {traversals}")
    spacing, speed = validation.positive("spacing", spacing), validation.positive("speed", speed)
    if places * spacing > MAX_ROUTE_M:  # (a typo built a 200 km world for minutes, or failed in MuJoCo's words)
        raise ValueError(f"places x spacing is a route of {places * spacing:g} m: at most {MAX_ROUTE_M:g} m "
                         "(render a longer one in segments)")
    final = Path(out)
    earlier = final.is_dir() and ((final / ROUTE_FILE).is_file() or not any(final.iterdir()))  # or empty
    if final.is_symlink() or (final.exists() and not earlier):
        raise FileExistsError(f"{final} exists and is not a route: not replaced (give another path or remove it)")
    others = _not_of_the_route(final) if earlier else []
    if others:  # (an ensemble trained into the route's folder, its results, notes: all were deleted with it)
        raise FileExistsError(f"{final} holds a route and other files ({', '.join(others[:5])}"
                              f"{', ...' if len(others) > 5 else ''}): not replaced (move them out, or give another "
                              "path)")
    final.parent.mkdir(parents=True, exist_ok=True)
    out = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}")
    out.mkdir()  # the usual permissions under the umask (a tempfile directory would be private)
    aside = final.with_name(f".{final.name}.old.{uuid.uuid4().hex[:8]}")  # where the earlier route goes meanwhile
    try:
        _render_route(out, conditions, places, seed, spacing, speed, width, height, bags, progress)
        (out / ROUTE_FILE).write_text(json.dumps({
            "seed": seed, "places": places, "spacing_m": spacing, "speed_mps": speed, "width": width,
            "height": height, "traversals": traversals, "bags": bags,
        }, indent=1) + "\n")
        if final.exists():  # the earlier route renamed aside first, so that a route is there at every moment
            os.replace(final, aside)
            os.replace(out, final)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(out, final)
    except BaseException:
        if aside.exists() and not final.exists():  # e.g. Ctrl-C between the renames: the earlier route goes back
            os.replace(aside, final)
        shutil.rmtree(out, ignore_errors=True)
        raise
    return final


def _not_of_the_route(folder: Path) -> list[str]:
    """The names in an earlier route's `folder` that its route did not write (all of them where its route.json
    cannot be read): route.json, the bags folder and one folder per traversal it names."""
    try:
        traversals = json.loads((folder / ROUTE_FILE).read_text())["traversals"]
        own = {ROUTE_FILE, "bags", *map(str, traversals)}
    except (OSError, ValueError, KeyError, TypeError):
        own = set()
    return sorted(entry.name for entry in folder.iterdir() if entry.name not in own)


def _render_route(
    out: Path,
    conditions: list[Condition],
    places: int,
    seed: int,
    spacing: float,
    speed: float,
    width: int,
    height: int,
    bags: str | None,
    progress: Callable[[str, int], None] | None,
) -> None:
    """Every traversal's frames, poses and bags into the directory `out` (see `generate_route`)."""
    world = make_world(length=10.0 + spacing * places + 40.0, seed=seed)
    for index, condition in enumerate(conditions):
        rng = np.random.default_rng([seed, index])
        objects = restyle(world.objects, condition)
        jitter = (LATERAL_STD * condition.jitter_scale, YAW_STD * condition.jitter_scale) if index else (0.0, 0.0)
        if index:
            objects = move_objects(objects, condition.moved_fraction, rng)
        objects += lights(objects, condition) + parked_cars(world.path, world.length, condition.parked_per_100m, rng)
        poses = camera_poses(world, places, spacing, speed, *jitter, seed=int(rng.integers(2**31)))
        folder = out / condition.name
        folder.mkdir()
        write_poses(folder, poses)
        bag = None
        if bags is not None:
            (out / "bags").mkdir(exist_ok=True)
            bag = BagWriter(out / "bags" / condition.name, storage=bags)
        frames = render_frames(world_xml(world, objects, condition), poses, width, height, condition.fog is not None)
        for pose, frame in zip(poses, frames, strict=True):
            write_frame(folder, pose, frame)
            if bag is not None:
                bag.write(pose, frame)
            if progress is not None:
                progress(condition.name, pose.place + 1)
        if bag is not None:
            bag.close()


__all__ = ["generate_route"]
