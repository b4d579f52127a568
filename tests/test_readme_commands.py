"""Every shell command of README.md and docs/*.md works (issue #20 item 3).

Commands are the lines of the ```bash, ```sh and plain ``` blocks (comments and environment assignments such
as `ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST` dropped). Each is checked without running it:
- `snncontrol SUB ...`: the sub-command's own argparse parser (built as `snncontrol.cli.main` builds it)
  accepts the arguments;
- `python benchmarks/X.py ...`, `python -m MOD ...` and console scripts: the file exists and accepts the flags
  (its `add_argument` calls, read with `ast` and replayed into a parser: flags, arity, literal choices);
  `python -m evolution.loopback CMD ...`: CMD is checked;
- `make TARGET`: the Makefile has the target; `ros2 launch PKG FILE a:=b` (needs a full ROS 2 install): the
  launch file exists and declares each argument;
- every `shipped:NAME` resolves to an artifact, every path into an input folder of the repository (configs/,
  benchmarks/, snncontrol/, ...) exists, and every experiment YAML loads and validates.
The cheap ones (`CHEAP`: seconds each) also run for real in a temporary working directory. A failure names
the file, line and command, and says why.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib
import importlib.metadata
import importlib.util
import io
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from evolution.config import load_config
from snncontrol.cli import COMMANDS
from snncontrol.controllers import SHIPPED_PREFIX, resolve

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_FENCES = {"bash", "sh", ""}
BIN = Path(sys.executable).parent
#: folders of the repository whose paths in a command are inputs (they must exist)
INPUT_FOLDERS = {"configs", "benchmarks", "snncontrol", "sim_envs", "evolution", "launch", "ros_ws", "tests"}
LAUNCH_DIR = ROOT / "ros_ws" / "src" / "snncontrol_ros" / "launch"
#: commands that run for real (program name without `.venv/bin/`), a few seconds each (snn_step.py --quick
#: compiles numba kernels for half a minute: parsed only)
CHEAP = (
    re.compile(r"^snncontrol (info|export-nir) "),
    re.compile(r"^snncontrol evolve configs/evolve_sphere_smoke\.yaml\b"),
)
RUN_TIMEOUT_S = 60
LOOPBACK_MODULE = "evolution.loopback"  # runs the command after it where the only network is the loopback
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Command:
    """One documented shell command: where it is, and its words with `.venv/bin/` and env assignments dropped."""

    where: str
    argv: tuple[str, ...]

    @property
    def text(self) -> str:
        return shlex.join(self.argv)


def documented_commands() -> list[Command]:
    found: dict[tuple[str, ...], Command] = {}
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        for block in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
            if block.group(1) not in SHELL_FENCES:
                continue
            first_line = text.count("\n", 0, block.start(2)) + 1
            for offset, line in enumerate(block.group(2).splitlines()):
                words = shlex.split(line, comments=True)
                while words and ENV_ASSIGNMENT.match(words[0]):
                    words.pop(0)
                if words:
                    words[0] = words[0].removeprefix(".venv/bin/")
                    where = f"{doc.relative_to(ROOT)}:{first_line + offset}"
                    found.setdefault(tuple(words), Command(where, tuple(words)))
    return list(found.values())


COMMANDS_FOUND = documented_commands()


def _parse(parser: argparse.ArgumentParser, args: list[str]) -> str:
    """'' when `parser` accepts `args`, else argparse's message."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(args)
    except SystemExit as exc:
        if exc.code:
            return err.getvalue().strip().splitlines()[-1]
    return ""


@cache
def snncontrol_parser(name: str) -> argparse.ArgumentParser:
    module_name, text = COMMANDS[name]
    parser = argparse.ArgumentParser(prog=f"snncontrol {name}", description=text)
    importlib.import_module(module_name).add_arguments(parser)
    return parser


@cache
def replayed_parser(path: Path) -> argparse.ArgumentParser:
    """A parser with the flags, arity, literal choices and int/float types of every `add_argument` call in
    `path`, read with `ast` (the script is not imported: its imports are heavy or need ROS)."""
    parser = argparse.ArgumentParser(prog=path.name, conflict_handler="resolve")
    types = {"int": int, "float": float}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr != "add_argument":
            continue
        kwargs: dict[str, object] = {}
        for kw in node.keywords:
            if kw.arg == "type" and isinstance(kw.value, ast.Name) and kw.value.id in types:
                kwargs["type"] = types[kw.value.id]
            elif kw.arg in {"action", "nargs", "dest", "required", "choices"}:
                with contextlib.suppress(ValueError):
                    kwargs[kw.arg] = ast.literal_eval(kw.value)
        parser.add_argument(*[ast.literal_eval(arg) for arg in node.args], **kwargs)
    return parser


def _module_file(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    return Path(spec.origin) if spec and spec.origin else None


def _console_script(name: str) -> Path | None:
    for entry in importlib.metadata.entry_points(group="console_scripts"):
        if entry.name == name:
            return _module_file(entry.value.split(":")[0])
    return None


def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, flags=re.M))


def _check_launch(args: list[str]) -> str:
    if len(args) < 3 or args[0] != "launch" or args[1] != "snncontrol_ros":
        return "expected: ros2 launch snncontrol_ros FILE [name:=value ...]"
    launch_file = LAUNCH_DIR / args[2]
    if not launch_file.is_file():
        return f"no launch file {launch_file.relative_to(ROOT)}"
    declared = {arg.get("name") for arg in ET.parse(launch_file).getroot().iter("arg")}
    unknown = [a.split(":=")[0] for a in args[3:] if a.split(":=")[0] not in declared]
    return f"{args[2]} declares no argument {', '.join(unknown)}" if unknown else ""


def check_program(argv: tuple[str, ...]) -> str:
    """'' when the program exists and accepts the arguments, else why not (for `python -m evolution.loopback
    CMD ...`, the wrapped CMD)."""
    program, args = argv[0], list(argv[1:])
    if program == "python" and args[:2] == ["-m", LOOPBACK_MODULE]:
        if len(args) < 3:
            return f"python -m {LOOPBACK_MODULE} needs a command to run"
        return check_program((args[2].removeprefix(".venv/bin/"), *args[3:]))
    if program == "snncontrol":
        if not args or args[0] not in COMMANDS:
            return f"snncontrol has no sub-command {args[0] if args else '(none)'!r}"
        return _parse(snncontrol_parser(args[0]), args[1:])
    if program == "make":
        missing = sorted(set(args) - _makefile_targets())
        return f"the Makefile has no target {', '.join(missing)}" if missing else ""
    if program == "ros2":
        return _check_launch(args)
    if program == "python":
        if args[:1] == ["-m"] and len(args) > 1:
            module, args = args[1], args[2:]
            script = _module_file(module)
            if script is None:
                return f"no module {module}"
        elif args and args[0].endswith(".py"):
            script, args = ROOT / args[0], args[1:]
        else:
            return "expected python -m MODULE or python SCRIPT.py"
    else:
        script = _console_script(program)
        if script is None:
            return f"no console script {program!r} in this environment"
    if not script.is_file():
        return f"no such file: {script}"
    return _parse(replayed_parser(script), args)


def check_inputs(argv: tuple[str, ...]) -> str:
    """'' when every shipped:NAME resolves, every repository input path exists and every config validates."""
    for word in argv[1:]:
        value = word.split("=", 1)[1] if word.startswith("--") and "=" in word else word
        if value.startswith(SHIPPED_PREFIX):
            try:
                artifact = resolve(value)
            except Exception as exc:
                return f"{value}: {exc}"
            if not (artifact / "controller.json").is_file():
                return f"{value}: no artifact at {artifact}"
        elif "/" in value and Path(value).parts[0] in INPUT_FOLDERS:
            if not (ROOT / value).exists():
                return f"no such file in the repository: {value}"
            if value.startswith("configs/") and value.endswith((".yaml", ".yml")):
                try:
                    load_config(ROOT / value)
                except Exception as exc:
                    return f"{value} does not validate: {exc}"
    return ""


def _id(command: Command) -> str:
    return f"{command.where} {command.text}"


def test_commands_are_found_in_the_readme_and_docs() -> None:
    sources = {command.where.split(":")[0] for command in COMMANDS_FOUND}
    assert "README.md" in sources, "no shell command found in README.md"
    assert any(source.startswith("docs/") for source in sources), "no shell command found in docs/"


@pytest.mark.parametrize("command", COMMANDS_FOUND, ids=_id)
def test_documented_command_is_accepted(command: Command) -> None:
    reason = check_program(command.argv) or check_inputs(command.argv)
    assert not reason, f"{command.where}: `{command.text}`: {reason}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary working directory that sees the repository's input folders (read through links)."""
    path = tmp_path_factory.mktemp("docs_commands")
    for folder in ("configs", "snncontrol"):
        (path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    return path


@pytest.mark.parametrize("command", [c for c in COMMANDS_FOUND if any(p.search(c.text) for p in CHEAP)], ids=_id)
def test_cheap_documented_command_runs(command: Command, workdir: Path) -> None:
    env = {**os.environ, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "MUJOCO_GL": "egl"}
    argv = [str(BIN / command.argv[0]), *command.argv[1:]]
    try:
        result = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{command.where}: `{command.text}`: still running after {RUN_TIMEOUT_S} s")
    if result.returncode:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-1:] or [""]
        pytest.fail(f"{command.where}: `{command.text}` exited {result.returncode}: {last[0]}")
