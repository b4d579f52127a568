"""`snncontrol evolve CONFIG.yaml [--resume RUN_DIR] [--backend serial|process|ray] [--address ...]
[--workers N] [--generations N] [--seed N] [--run-dir DIR] [--allow-import MODULE ...] [--quiet]`.

--backend/--address/--workers/--generations/--run-dir are run settings (not in the config hash): a run can be
resumed on another backend or extended to more generations. --seed changes the experiment, so a resumed run
refuses a different seed. With --resume and no CONFIG, the run directory's config.yaml is used.

A config is data, never code (the epilog of `snncontrol evolve --help`, `CONFIGS_ARE_DATA`, says how).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from evolution.builders import BUILDERS, ENTRY_POINT_GROUP
from evolution.config import load_config, parse_config, read_config
from evolution.errors import ConfigError
from snncontrol.seeding import seed_argument

CONFIGS_ARE_DATA = (
    "A config is data, never code: network.builder must name one of the project's builders "
    f"({', '.join(BUILDERS)}, or their module:function references) or an entry point that an installed "
    f"package declares in the group {ENTRY_POINT_GROUP!r}. A builder of your own runs only if you name its "
    "module with --allow-import MODULE; any other builder (e.g. os:system) is refused before anything runs."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = CONFIGS_ARE_DATA
    parser.add_argument("config", nargs="?", help="experiment YAML (default with --resume: RUN_DIR/config.yaml)")
    parser.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its latest checkpoint")
    parser.add_argument("--backend", choices=["serial", "process", "ray"], help="where populations are evaluated")
    parser.add_argument("--address", help="Ray cluster address to join (default: start a local Ray)")
    parser.add_argument("--workers", type=int, help="worker processes / Ray tasks per generation")
    parser.add_argument("--generations", type=int, help="total generations (extends a resumed run)")
    parser.add_argument("--seed", type=seed_argument, help="run seed (overrides the config's)")
    parser.add_argument("--run-dir", help="run directory (default: runs/<config name>-<UTC time>)")
    parser.add_argument(
        "--allow-import",
        action="append",
        default=[],
        metavar="MODULE",
        help="let network.builder name callables of MODULE and its submodules, code you trust (repeatable)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _check_backend_flags(args: argparse.Namespace, data: dict[str, Any]) -> None:
    """Refuse --address and --workers where the backend (the config's `data`, the flags set in it) takes none,
    naming the flag. `--backend` replaces the config's backend: its workers and address, settings of the one it
    named, are dropped where the new one takes none (a run resumed serially from a process run's config.yaml)."""
    backend = data.get("backend")
    if not isinstance(backend, dict):
        return  # (no flag set in it: the config's own backend, validated as it is)
    name = backend.get("name", "serial")
    if args.address is not None and name != "ray":
        raise ConfigError(f"--address names a Ray cluster: the backend is {name} (give --backend ray)")
    if args.workers is not None and name == "serial":
        raise ConfigError("--workers sizes a process pool or Ray tasks: the serial backend evaluates in this process "
                          "(give --backend process or ray)")
    if args.backend is not None:
        if name == "serial":
            backend.pop("workers", None)
        if name != "ray":
            backend.pop("address", None)


def run(args: argparse.Namespace) -> int:
    from evolution.runner import Experiment

    if args.config is None and args.resume is None:
        raise ConfigError("give a CONFIG.yaml (or --resume RUN_DIR)")
    if args.resume is not None and args.run_dir is not None and Path(args.run_dir) != Path(args.resume):
        raise ConfigError(f"--resume {args.resume} continues the run in its own directory: --run-dir {args.run_dir} "
                          "would be ignored (leave it out)")
    if args.resume is not None and not Path(args.resume).is_dir():
        raise ConfigError(f"--resume {args.resume}: no such run directory")
    path = Path(args.config) if args.config else Path(args.resume) / "config.yaml"
    if not path.is_file():
        raise ConfigError(f"no such config file: {path}")
    overrides = {
        "backend.name": args.backend,
        "backend.address": args.address,
        "backend.workers": args.workers,
        "generations": args.generations,
        "seed": args.seed,
    }
    data = read_config(path, **overrides)
    _check_backend_flags(args, data)
    config = parse_config(data, str(path), args.allow_import)
    started_with = Path(args.resume or ".") / "config.yaml"
    if args.resume is not None and args.seed is not None and started_with.is_file():  # (said: the hash differs)
        started = load_config(started_with, args.allow_import).seed
        if args.seed != started:
            raise ConfigError(f"--seed {args.seed}: the run in {args.resume} was started with seed {started}, and a "
                              "resumed run keeps it (start a new run for another seed)")
    run_dir = args.resume or args.run_dir or config.output.run_dir
    if run_dir is None:
        run_dir = Path("runs") / f"{config.name}-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}"
    experiment = Experiment(config, run_dir, quiet=args.quiet)
    experiment.run(resume=args.resume is not None)
    print(experiment.summary())  # the champion saved in best/, not the last generation's best
    return 0
