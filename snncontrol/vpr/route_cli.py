"""`snncontrol make-route OUT --places N --traversals day dusk+autumn ... --seed S`: render a route dataset.

Layout and conditions: see `sim_envs.routes` (image folders per traversal + ROS 2 bags). Needs an OpenGL
context: set MUJOCO_GL=egl on a headless machine (`snncontrol.cli` does when no display is set).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from snncontrol import atomic
from snncontrol.errors import first_line
from snncontrol.seeding import seed_argument
from snncontrol.vpr.errors import VprConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from sim_envs.routes.appearance import PRESETS

    parser.add_argument("out", help="output directory (an earlier route alone there is replaced; anything else is "
                                    "refused)")
    parser.add_argument("--places", type=int, default=1000)
    parser.add_argument(
        "--traversals",
        nargs="+",
        default=["day", "dusk+autumn", "fog+winter"],
        help=f"appearance per traversal: presets joined by + (e.g. night+lamps+windows): {', '.join(PRESETS)}",
    )
    parser.add_argument("--seed", type=seed_argument, default=0)
    parser.add_argument("--spacing", type=float, default=2.0, help="m between places")
    parser.add_argument("--width", type=int, default=96)
    parser.add_argument("--height", type=int, default=72)
    parser.add_argument("--bag-storage", choices=("mcap", "sqlite3", "none"), default="mcap")


def remove_empty_folders(folder: Path, stop: Path) -> None:
    """Remove `folder` and its parents up to `stop` (kept), each only while it is empty."""
    while folder != stop and folder.is_relative_to(stop):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def run(args: argparse.Namespace) -> int:
    import mujoco

    from sim_envs.routes import generate_route

    out = Path(args.out)
    existing = next(folder for folder in (out.parent, *out.parent.parents) if folder.exists())
    atomic.make_folder(out.parent, out)  # a path under a file, or a folder that takes no new entries (/proc): one
    atomic.check_can_create_in(out.parent, out)  # line naming the route now, not the hidden folder it renders into
    bars: list[tqdm] = []  # opened with the first frame: a route refused up front prints no bar

    def progress(_traversal: str, _frames: int) -> None:
        if not bars:
            bars.append(tqdm(total=args.places * len(args.traversals), unit="frame", desc="render"))
        bars[0].update(1)

    try:
        out = generate_route(
            out,
            args.places,
            args.traversals,
            args.seed,
            spacing=args.spacing,
            width=args.width,
            height=args.height,
            bags=None if args.bag_storage == "none" else args.bag_storage,
            progress=progress,
        )
    except ValueError as exc:
        remove_empty_folders(out.parent, existing)  # made above for a route refused: none left behind
        raise VprConfigError(str(exc)) from None
    except mujoco.FatalError as exc:  # e.g. no OpenGL platform here for the MUJOCO_GL asked for
        remove_empty_folders(out.parent, existing)
        raise VprConfigError(f"MuJoCo cannot render here ({first_line(exc)}); on a machine without a display set "
                             "MUJOCO_GL=egl (or osmesa)") from None
    finally:
        for bar in bars:
            bar.close()
    print(f"wrote {args.places} places x {len(args.traversals)} traversals to {out}")
    return 0
