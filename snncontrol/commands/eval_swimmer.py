"""`snncontrol eval-swimmer ARTIFACT --links N [--link-length M --gear NM --viscosity PAS --density KGM3]
[--env ID --angles I ...] [--episodes E] [--seed S] [--steps T] [--video out.mp4]`: swim a controller closed loop
in the N-link swimmer plant (NCAP reward; the body's link length, motors and fluid as given) or in any swimmer
body registered with Gymnasium (`--env`, e.g. Swimmer-v5: its own reward), print its return, forward speed and
(the plant) net speed (m/s, signed: the head's displacement along its mean heading over the episode's duration,
negative for a body swimming backwards; `snncontrol.evaluation.swimming`), and optionally write a video (offscreen
MuJoCo rendering, EGL when there is no display; imageio-ffmpeg).
`--angles` gives the observation indices of the body's joint angles (rad, head to tail) that the controller's
"select" adapter reads (default: the artifact's, or 0 .. N - 2 for an NCAP re-instantiated for N links);
`--rates` the indices of their angular velocities (rad/s) and `--lead` how far ahead (s) the adapter reads the
angles, angle + lead x angular velocity (default: the artifact's; `--lead 0` reads the angles alone).

ARTIFACT is a controller directory or the name of a shipped one (default `swimmer_ncap`). An NCAP artifact
built for another body (its spec's NCAP metadata, `snncontrol.controllers.ncap.ncap_options`) is re-instantiated
for N links with the same evolved shared weights (`snncontrol.controllers.ncap.retarget`); any other controller
must match the body. Swims and the video step the controller through `snncontrol.policy.SNNPolicy`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("MUJOCO_GL", "egl")  # before mujoco is imported: headless offscreen rendering

import numpy as np

from sim_envs.swimmer.mjcf import MAX_LINKS, MIN_LINKS
from snncontrol import atomic
from snncontrol.arguments import bounded
from snncontrol.errors import SnnControlError, first_line
from snncontrol.evaluation.swimming import PLANT
from snncontrol.seeding import seed_argument

if TYPE_CHECKING:
    from snncontrol.adapters import IOAdapters
    from snncontrol.spec import NetworkSpec

DEFAULT_ARTIFACT = "swimmer_ncap"
MAX_VIDEO_PIXELS = 4096  # per side of a video frame
MAX_LEAD_S = 10.0  # s: the farthest --lead (the angles extrapolated by their rates over it)


#: file types the video encoder (imageio-ffmpeg) writes
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm")
#: the plant's body options (`sim_envs.swimmer.env` keywords)
BODY_OPTIONS = ("link_length", "gear", "viscosity", "density")


#: the largest batch of episodes (copies of the plant stepped together; 99999999999 filled 23 GB and was killed)
#: and the longest episode (control steps: ~8 hours of swimming at 0.03 s)
MAX_EPISODES, MAX_STEPS = 10_000, 1_000_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "artifact",
        nargs="?",
        default=DEFAULT_ARTIFACT,
        help=f"controller artifact directory or shipped name (default {DEFAULT_ARTIFACT})",
    )
    parser.add_argument(
        "--links", type=int, default=None,
        help=f"body links N, {MIN_LINKS}..{MAX_LINKS} in the plant (default: the artifact's)",
    )
    parser.add_argument("--env", default=PLANT, help=f"Gymnasium id of the swimmer body (default {PLANT})")
    parser.add_argument(
        "--angles", type=int, nargs="+", metavar="I", help="observation indices of the joint angles, head to tail"
    )
    parser.add_argument(
        "--rates", type=int, nargs="+", metavar="I", help="observation indices of the joint angular velocities"
    )
    parser.add_argument("--lead", type=float, metavar="S", help="read the angles S seconds ahead (0: angles alone)")
    parser.add_argument("--speed", type=bounded(float, 0.0, 1.0), metavar="S",
                        help="speed command of an NCAP built with one (0 stopped .. 1 full speed; default 1)")
    parser.add_argument("--turn", type=bounded(float, 0.0), nargs=2, metavar=("RIGHT", "LEFT"),
                        help="turn commands of an NCAP built with them (>= 0 each; default 0 0: straight)")
    parser.add_argument("--episodes", type=bounded(int, 1, MAX_EPISODES), default=5,
                        help=f"episodes, swum as one batch (default 5, at most {MAX_EPISODES})")
    parser.add_argument("--seed", type=seed_argument, default=0, help="first episode seed (episode e: seed + e)")
    parser.add_argument("--steps", type=bounded(int, 1, MAX_STEPS), default=1000,
                        help=f"control steps per episode (default 1000, at most {MAX_STEPS})")
    body = parser.add_argument_group("the plant's body (default: the NCAP body in water)")
    body.add_argument("--link-length", type=float, metavar="M", help="link length (m; default 0.1)")
    body.add_argument("--gear", type=float, metavar="NM", help="motor torque at full command (N·m; default 5e-4)")
    body.add_argument("--viscosity", type=float, metavar="PAS", help="fluid viscosity (Pa·s; default 1e-3)")
    body.add_argument("--density", type=float, metavar="KGM3", help="fluid density (kg/m³; default 3000)")
    parser.add_argument("--video", metavar="OUT.mp4", help="write a video of the first episode")
    parser.add_argument("--width", type=int, default=480, help="video width in pixels")
    parser.add_argument("--height", type=int, default=360, help="video height in pixels")


def body(
    spec: NetworkSpec,
    genome: np.ndarray,
    io: IOAdapters,
    n_links: int | None,
    angles: list[int] | None = None,
    rates: list[int] | None = None,
    lead: float | None = None,
) -> tuple[NetworkSpec, np.ndarray, IOAdapters, int]:
    """(spec, genome, io, n_links) for the requested body; NCAP controllers are re-instantiated (reading the new
    body's angles alone; given `rates`, at the artifact's lead unless `lead` says otherwise), and `angles`
    (observation indices of the joint angles), `rates` (of their angular velocities) and `lead` (s; 0 reads the
    angles alone) replace those of the observation adapter."""
    from snncontrol.controllers.ncap import retarget

    built_for = options_of(spec).get("n_links")
    if built_for is None:
        if n_links is None:
            raise SnnControlError(f"{spec.name or 'this controller'} is not an NCAP network ({spec.n_inputs} input(s), "
                                  f"{spec.n_outputs} output(s)): give --links N where it was made for an N-link "
                                  "swimmer (N - 1 outputs, one per joint)") from None
        built_for = n_links
    if n_links is not None and n_links != built_for:
        lead_was = io.observation.lead
        spec, genome, io = retarget(spec, genome, n_links)
        if lead is None and rates is not None and lead_was:
            lead = lead_was
    if angles is None and rates is None and lead is None:
        return spec, genome, io, n_links or built_for
    if io.observation.kind != "select":
        raise SnnControlError(
            f"--angles/--rates/--lead need a 'select' observation adapter, the controller has {io.observation.kind!r}"
        )
    observation = io.observation
    changes: dict[str, object] = {}
    if angles is not None:
        changes["indices"] = tuple(angles)
    if rates is not None:
        changes["rates"] = tuple(rates)
    if lead is not None:
        changes["lead"] = lead
    if lead == 0:
        changes["rates"] = ()
    elif angles is not None and observation.rates and rates is None:
        raise SnnControlError("the controller reads joint angular velocities: give --rates with --angles (or --lead 0)")
    elif rates is not None and not changes.get("lead", observation.lead):
        raise SnnControlError("--rates needs a lead: give --lead S (s; the controller reads the angles alone)")
    io = dataclasses.replace(io, observation=dataclasses.replace(observation, **changes))
    return spec, genome, io, n_links or built_for


def commands(options: dict[str, Any], speed: float | None, turn: list[float] | None) -> dict[str, Any]:
    """The constant commands (`swim`'s speed and turn) for the command channels the NCAP of `options` (`options_of`)
    was built with: those given, else full speed and straight; one line for a command the controller has no
    channel for."""
    given = {"speed": speed, "turn": None if turn is None else tuple(turn)}
    defaults = {"speed": 1.0, "turn": (0.0, 0.0)}
    for name, value in given.items():
        if value is not None and not options.get(name):
            raise SnnControlError(f"--{name}: the controller has no {name} command input")
    return {name: defaults[name] if value is None else value for name, value in given.items() if options.get(name)}


def options_of(spec: NetworkSpec) -> dict[str, Any]:
    """The `ncap_spec` options of an NCAP network (its observation indices are its joints' angles); {} for any
    other network."""
    from snncontrol.controllers.ncap import ncap_options
    from snncontrol.errors import SpecError

    try:
        return ncap_options(spec)
    except SpecError:
        return {}


def check_plant_links(n_links: int) -> None:
    """One line unless the swimmer plant takes `n_links` links."""
    if not MIN_LINKS <= n_links <= MAX_LINKS:
        raise SnnControlError(f"--links must be in {MIN_LINKS}..{MAX_LINKS} for the swimmer plant, got {n_links}")


def describe(command: dict[str, Any]) -> str:
    """The commands as the summary says them, e.g. "speed 1, turn right 0 left 0.5"."""
    words = [f"speed {command['speed']:g}"] if "speed" in command else []
    if "turn" in command:
        words.append(f"turn right {command['turn'][0]:g} left {command['turn'][1]:g}")
    return ", ".join(words)


def run(args: argparse.Namespace) -> int:
    from snncontrol.artifacts import read_artifact
    from snncontrol.controllers import resolve
    from snncontrol.evaluation.swimming import swim

    path = resolve(args.artifact)
    spec, genome, _, io = read_artifact(path)
    if args.env == PLANT and args.links is not None:  # before the body is built (5 GB at --links 5000)
        check_plant_links(args.links)
    if args.lead is not None and not (np.isfinite(args.lead) and 0 <= args.lead <= MAX_LEAD_S):
        raise SnnControlError(f"--lead must be a number of seconds in [0, {MAX_LEAD_S:g}], got {args.lead}")
    if args.lead == 0 and args.rates is not None:  # (the rates were dropped without a word)
        raise SnnControlError("--lead 0 reads the angles alone: leave --rates out, or give a lead > 0")
    spec, genome, io, n_links = body(spec, genome, io, args.links, args.angles, args.rates, args.lead)
    plant_layout = tuple(range(n_links - 1))  # where the plant's observation holds the joint angles
    if args.env != PLANT:  # (a misspelt id was answered with a request for --angles)
        import gymnasium as gym

        import sim_envs  # noqa: F401  (registers the sim_envs/* ids)

        try:
            gym.spec(args.env)
        except gym.error.Error as exc:
            raise SnnControlError(f"--env {args.env}: {first_line(exc)}") from None
    if args.env != PLANT and args.angles is None and getattr(io.observation, "indices", None) == plant_layout:
        raise SnnControlError(f"the controller reads the joint angles at observation indices {list(plant_layout)}, "
                              f"where the project's plant has them; give --angles for {args.env} (e.g. Swimmer-v5: "
                              f"--angles 1 2, after its body angle; --angles {' '.join(map(str, plant_layout))} "
                              "where that body has them there too)")
    options = options_of(spec)
    indices = getattr(io.observation, "indices", None) if options else None  # (an NCAP reads joint angles)
    if args.env == PLANT and args.angles is None and indices and indices != plant_layout[: len(indices)]:
        raise SnnControlError(f"the controller reads the joint angles at observation indices {list(indices)}, not "
                              f"where the project's plant has them ({' '.join(map(str, plant_layout))}): give --env "
                              "for the body it was made for, or --angles for the plant")
    if args.env == PLANT:
        check_plant_links(n_links)
    plant_body = {key: getattr(args, key) for key in BODY_OPTIONS if getattr(args, key) is not None}
    if plant_body and args.env != PLANT:
        raise SnnControlError(f"--link-length, --gear, --viscosity and --density set the plant's body, not {args.env}")
    for key, value in plant_body.items():
        if not (np.isfinite(value) and value > 0):
            raise SnnControlError(f"--{key.replace('_', '-')} must be a positive number, got {value}")
    if args.video:  # checked before the swim, whose time a bad path or size would waste
        if not (1 <= args.width <= MAX_VIDEO_PIXELS and 1 <= args.height <= MAX_VIDEO_PIXELS):
            raise SnnControlError(f"--width and --height must be 1..{MAX_VIDEO_PIXELS} pixels, got {args.width} x "
                                  f"{args.height}")
        if Path(args.video).suffix.lower() not in VIDEO_SUFFIXES:  # (the encoder refused it after the swim)
            raise SnnControlError(f"--video {args.video}: give a file name ending in one of {VIDEO_SUFFIXES}")
        atomic.writable_file(args.video)
        check_video_size(args.env, n_links, args.width, args.height, plant_body)
    command = commands(options, args.speed, args.turn)
    seeds = [args.seed + e for e in range(args.episodes)]
    result = swim(spec, genome, io, n_links, seeds, steps=args.steps, env_id=args.env, env_kwargs=plant_body,
                  **command)
    returns, speeds = result.copy_returns, result.copy_speeds
    print(
        f"{path}: {spec.name}, {spec.parameters.size} parameters, {n_links} links ({args.env}), "
        f"{args.episodes} episode(s) of {args.steps} steps"
    )
    print(
        f"return {returns.mean():.1f} +- {returns.std():.1f} (worst episode {returns.min():.1f}"
        f"{f', max {args.steps}' if args.env == PLANT else ''}), "
        f"forward speed {speeds.mean():.4f} +- {speeds.std():.4f} m/s"
        + (f", net speed {result.copy_net_speeds.mean():.4f} m/s" if args.env == PLANT else "")
        + (f"; body {plant_body}" if plant_body else "")
        + (f"; commands: {describe(command)}" if command else "")
    )
    if args.video:
        out = write_video(spec, genome, io, n_links, args.seed, args.steps, args.video, args.width, args.height,
                          args.env, plant_body, command)
        print(f"video: {out}")
    return 0


def video_env(env_id: str, n_links: int, steps: int, width: int, height: int, body: dict | None = None) -> Any:
    """A rendering env of the body `env_id` whose episodes last `steps` steps: the plant's own episode length (it
    truncates at 1000 by default), another body's time limit (gym.make's max_episode_steps names that wrapper,
    not the plant's keyword)."""
    import gymnasium as gym

    import sim_envs

    if env_id == PLANT:
        return sim_envs.SwimmerEnv(n_links=n_links, max_episode_steps=steps, render_mode="rgb_array", width=width,
                                   height=height, **(body or {}))
    return gym.make(env_id, render_mode="rgb_array", width=width, height=height, max_episode_steps=steps)


def check_video_size(env_id: str, n_links: int, width: int, height: int, body: dict | None = None) -> None:
    """One SnnControlError line if the body cannot render frames of width x height pixels (the model's offscreen
    framebuffer), found by rendering its first frame."""
    try:
        env = video_env(env_id, n_links, 1, width, height, body)
    except TypeError as exc:  # (gym.make passes width and height to the body's constructor)
        raise SnnControlError(f"--video: {env_id} cannot render frames of a given size ({first_line(exc)})") from None
    import mujoco

    try:
        env.reset(seed=0)
        env.render()
    except ValueError as exc:
        raise SnnControlError(f"--width / --height: {first_line(exc)}") from None
    except mujoco.FatalError as exc:  # e.g. no OpenGL platform for the MUJOCO_GL asked for
        raise SnnControlError(f"--video: MuJoCo cannot render here ({first_line(exc)}); on a machine without a "
                              "display set MUJOCO_GL=egl (or osmesa)") from None
    finally:
        env.close()


def write_video(
    spec: NetworkSpec,
    genome: np.ndarray,
    io: IOAdapters,
    n_links: int,
    seed: int,
    steps: int,
    out: str,
    width: int,
    height: int,
    env_id: str = PLANT,
    body: dict | None = None,
    command: dict[str, Any] | None = None,
) -> Path:
    """Swim one episode in a rendering env (the plant, or the body `env_id`) and write it as an MP4 at the
    control rate (1 / dt), atomically; `command`: the NCAP's constant speed / turn commands (`commands`)."""
    import imageio.v2 as imageio

    from snncontrol.controllers.ncap import with_commands
    from snncontrol.network import Network
    from snncontrol.policy import SNNPolicy, finite_actions

    net = Network(spec)
    policy = SNNPolicy(net, net.params(genome), io)
    env = video_env(env_id, n_links, steps, width, height, body)
    extra = with_commands(np.zeros(0), **command) if command else None

    def encode(path: Path) -> None:
        obs, _ = env.reset(seed=seed)
        fps = round(1.0 / env.unwrapped.dt)
        with imageio.get_writer(path, fps=fps, codec="libx264", macro_block_size=8) as writer:
            writer.append_data(env.render())
            for k in range(steps):
                action = finite_actions(policy.act(np.asarray(obs)[None], extra_inputs=extra), k * spec.dt, "seed",
                                        [seed])[0]
                obs, _, terminated, truncated, _ = env.step(action)
                writer.append_data(env.render())
                if terminated or truncated:
                    break

    try:
        return atomic.write_through(out, encode)  # a failed encoding leaves what was at `out`
    finally:
        env.close()
