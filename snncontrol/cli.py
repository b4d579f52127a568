"""Command-line entry point `snncontrol`: one sub-command per job.

Sub-commands are imported only when chosen, so `snncontrol --help` is quick and the SNN core never imports
the application layers. A user-facing error (`SnnControlError`, a file that cannot be read or written) is
printed as one line on stderr with exit status 2, never as a traceback; so is any other failure that input can
provoke (a value out of range, a structure too deep, memory exhausted), naming its kind. `SNNCONTROL_DEBUG=1`
shows the traceback instead (for bug reports).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

#: name -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("snncontrol.commands.demo", "fly the shipped blimp controller in the MuJoCo plant and report"),
    "info": ("snncontrol.commands.info", "describe a controller artifact: network, parameters, synapses, metadata"),
    "blimp-dataset": (
        "snncontrol.commands.blimp_dataset",
        "generate the PD-mimicry dataset for the blimp SNNs from simulated flights",
    ),
    "eval-blimp": (
        "snncontrol.commands.eval_blimp",
        "fly a blimp controller beside the reference PID over the envelope's bands of hover command: tables, plots",
    ),
    "blimp-integrator": (
        "snncontrol.commands.blimp_integrator",
        "put a blimp PD-SNN beside a constructed spiking integrator I-SNN (PD+I)",
    ),
    "compose": ("snncontrol.commands.compose", "put controllers side by side as one (e.g. PD-SNN + I-SNN = PD+I)"),
    "export-nir": ("snncontrol.commands.export_nir", "export a controller artifact as a NIR graph (HDF5)"),
    "eval-swimmer": (
        "snncontrol.commands.eval_swimmer",
        "swim a controller in the N-link swimmer plant: return, speed, optional video",
    ),
    "make-route": ("snncontrol.vpr.route_cli", "render a place-recognition route dataset (folders + ROS 2 bag)"),
    "vpr": ("snncontrol.vpr.cli", "place recognition with SNN ensembles: train, eval, query"),
    "evolve": ("evolution.cli", "evolve controller parameters from an experiment YAML"),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="snncontrol",
        description="Spiking neural network controllers: evolve, evaluate, deploy.",
        epilog="commands:\n" + "\n".join(f"  {name:<12} {text}" for name, (_, text) in COMMANDS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the command (COMMAND --help)")
    return parser


def _raised_by_an_interrupt(exc: BaseException | None) -> bool:
    """Whether `exc` was raised while a KeyboardInterrupt was being handled (its context chain holds one): the
    user's Ctrl-C, not the error it left behind, is what to report."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__context__
    return False


def use_egl_without_a_display() -> None:
    """MUJOCO_GL=egl where no display is set and none is asked for, before any command imports MuJoCo (it reads the
    variable once, at its import: a headless machine without it ended a render in MuJoCo's 25-line FatalError)."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("MUJOCO_GL", "egl")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    use_egl_without_a_display()
    top = _top_parser().parse_args(argv[:1])
    module_name, text = COMMANDS[top.command]
    try:  # importing a command's module (torch, MuJoCo) takes seconds: Ctrl-C there is no traceback either
        module = importlib.import_module(module_name)
        parser = argparse.ArgumentParser(prog=f"snncontrol {top.command}", description=text)
        module.add_arguments(parser)
        args = parser.parse_args(argv[1:])
    except KeyboardInterrupt:
        print(f"snncontrol {top.command}: interrupted", file=sys.stderr)
        return 130
    from snncontrol.errors import SnnControlError, described

    try:
        try:
            return int(module.run(args) or 0)
        except Exception as exc:
            if _raised_by_an_interrupt(exc):  # e.g. a zip file closed while Ctrl-C cut its write short
                raise KeyboardInterrupt from exc
            raise
    except SnnControlError as exc:
        print(f"snncontrol {top.command}: error: {exc}", file=sys.stderr)
    except BrokenPipeError:  # the reader of stdout went away (`| head`): no error of ours, as other tools exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (Python's flush at exit fails again)
        return 141  # 128 + SIGPIPE
    except FileNotFoundError as exc:
        print(f"snncontrol {top.command}: error: no such file: {exc.filename}", file=sys.stderr)
    except OSError as exc:
        reason = f"{exc.filename}: {exc.strerror or exc}" if exc.filename else str(exc)
        print(f"snncontrol {top.command}: error: {next(iter(reason.splitlines()), '')}", file=sys.stderr)
    except (ValueError, OverflowError, RecursionError, MemoryError) as exc:
        if os.environ.get("SNNCONTROL_DEBUG"):
            raise
        print(
            f"snncontrol {top.command}: error: {described(exc)} (SNNCONTROL_DEBUG=1: traceback)",
            file=sys.stderr,
        )
    except RuntimeError as exc:
        if "can't allocate memory" not in str(exc) or os.environ.get("SNNCONTROL_DEBUG"):
            raise
        reason = next(iter(str(exc).split("DefaultCPUAllocator: ")[-1].splitlines()), "")
        print(f"snncontrol {top.command}: error: out of memory ({reason}); ask for fewer or smaller copies (plants, "
              "episodes, neurons)", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"snncontrol {top.command}: interrupted", file=sys.stderr)
        return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
