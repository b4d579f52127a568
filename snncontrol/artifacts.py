"""Controller artifacts: a network spec, one genome and metadata, saved without pickle.

An artifact is a directory:
    controller.json       schema version, network spec, I/O adapters, parameter names/shapes, metadata,
                          sha256 of the params
    params.safetensors    the genome as one float64 tensor "genome" [D], and nothing else
It is written atomically (a temporary sibling directory, then rename), so a crash never leaves half an
artifact (a kill between the two renames of a replacement leaves the earlier one renamed aside: the next write
of the artifact puts it back; a read does not, as a writer may be between those renames right then), and
loading validates everything, raising one `ArtifactError` line naming what is wrong: missing files (or a
directory, FIFO, ... in a file's place), invalid JSON (NaN, Infinity or a number too large for a float
included), unknown schema, a spec, I/O adapters or metadata that do not validate (a field of the wrong type, a
non-finite number, a size beyond its cap), adapters that do not fit the network (`check_adapters`), a params
file that is truncated, tampered (hash mismatch), holds other tensors or another dtype, of the wrong size,
non-finite or out of bounds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load, save

from snncontrol import __version__, atomic
from snncontrol.adapters import IOAdapters
from snncontrol.errors import ArtifactError, GenomeError, SpecError, described
from snncontrol.network import Network, NetworkState, Params
from snncontrol.params import bound_to_json, is_finite_number
from snncontrol.spec import NetworkSpec

SCHEMA = "snncontrol.controller/1"
SPEC_FILE, PARAMS_FILE = "controller.json", "params.safetensors"
MAX_JSON_BYTES = 64 * 2**20
MAX_PARAMS_BYTES = 1024 * 2**20
#: Deepest JSON nesting any file of ours may have (a spec is about 6 levels deep); deeper is refused before it can
#: exhaust the interpreter's recursion in the parser or in whatever walks the document next.
MAX_JSON_DEPTH = 64


def _non_finite(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number (only finite numbers are)")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"{token:.40} is too large for a float")
    return value


def parse_json(text: str, max_depth: int = MAX_JSON_DEPTH, *, allow_nan: bool = True) -> Any:
    """`json.loads(text)`, refusing documents nested deeper than `max_depth` with one ValueError line (also for
    a nesting deep enough to break the parser's recursion). With `allow_nan=False` the constants NaN, Infinity
    and -Infinity (which Python's json writes by default, but which are not JSON) and numbers that overflow a
    float are refused too: every number in the document is then finite. The default keeps them for the files
    written with them (e.g. an evolution checkpoint's logbook, where a failed evaluation scores NaN)."""
    strict = {} if allow_nan else {"parse_constant": _non_finite, "parse_float": _finite_float}
    try:
        document = json.loads(text, **strict)  # type: ignore[arg-type]
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {max_depth} levels") from None
    stack = [(document, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            raise ValueError(f"JSON nested deeper than {max_depth} levels")
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return document


def git_revision(path: Path | None = None) -> str | None:
    """The git commit of the source tree this package runs from, with "+dirty" where the tree differs from it
    (changed or new files that git does not ignore: that commit alone would not reproduce what ran); None outside
    a checkout."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=path or Path(__file__).parent, capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()

    try:
        commit, changes = git("rev-parse", "HEAD"), git("status", "--porcelain")
    except (OSError, subprocess.SubprocessError):
        return None
    return (commit + ("+dirty" if changes else "")) or None


@dataclass
class Metadata:
    """What is known of how a controller came about. `extra` holds any further JSON-serializable facts."""

    created: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    seed: int | None = None
    fitness: float | list[float] | None = None
    git_revision: str | None = field(default_factory=git_revision)
    snncontrol_version: str = __version__
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any) -> Metadata:
        """Metadata from JSON; one ArtifactError line naming the field unless each field has its documented type
        (created, snncontrol_version, description: strings; seed: an integer or null; fitness: a finite number,
        a list of them or null; git_revision: a string or null; extra: a mapping)."""
        if not isinstance(data, dict):
            raise ArtifactError("metadata must be a mapping")
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ArtifactError(f"metadata has unknown field(s): {', '.join(sorted(unknown))}")
        for key in ("created", "snncontrol_version", "description", "git_revision"):
            if key in data and not isinstance(data[key], str) and not (key == "git_revision" and data[key] is None):
                raise ArtifactError(f"metadata.{key} must be a string, got {data[key]!r:.40}")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ArtifactError(f"metadata.seed must be an integer or null, got {seed!r:.40}")
        fitness = data.get("fitness")
        values = fitness if isinstance(fitness, list) else [] if fitness is None else [fitness]
        if not all(is_finite_number(v) for v in values):
            what = f"{fitness!r:.40}"
            raise ArtifactError(f"metadata.fitness must be a finite number, a list of them or null, got {what}")
        if not isinstance(data.get("extra", {}), dict):
            raise ArtifactError("metadata.extra must be a mapping")
        return cls(**data)


class Controller:
    """A loaded controller: spec, genome and metadata, with its network and materialized parameters ready to
    step (P = 1 by default, as in a ROS callback)."""

    def __init__(
        self,
        spec: NetworkSpec,
        genome: np.ndarray,
        metadata: Metadata | None = None,
        io: IOAdapters | None = None,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.spec = spec
        self.io = io or IOAdapters()
        check_adapters(self.io, spec)
        self.genome = spec.parameters.check(genome)[0]
        self.metadata = metadata or Metadata()
        self.network = Network(spec, dtype)
        self.params: Params = self.network.params(self.genome)

    def init_state(self, batch: int = 1) -> NetworkState:
        return self.network.init_state(batch)

    def population_params(self, batch: int) -> Params:
        """The same parameters repeated for `batch` copies (e.g. one per randomized plant)."""
        return Params(*(t.expand(batch, *t.shape[1:]).contiguous() for t in self.params))

    def step(self, x: Any, state: NetworkState) -> tuple[torch.Tensor, NetworkState]:
        return self.network.step(self.params, x, state)


def check_adapters(io: IOAdapters, spec: NetworkSpec) -> None:
    """One SpecError line unless the adapters `io` fit the network `spec` as far as that is decidable without the
    plant: the action adapter's scale / offset (one, or one per output), and an observation adapter that makes a
    known number of inputs (select: one per index) makes no more than the network takes. Fewer is no misfit:
    further inputs may follow at run time (e.g. an NCAP's command channels, `SNNPolicy.act(extra_inputs=...)`);
    identity's count is the plant's, and setpoint_error's one input always fits. `IOAdapters.check` checks a
    plant."""
    io.action.check_outputs(spec.n_outputs)
    observation = io.observation
    if observation.kind == "select" and len(observation.indices) > spec.n_inputs:
        raise SpecError(f"the observation adapter (select) makes {len(observation.indices)} inputs (indices "
                        f"{list(observation.indices)}); the network takes {spec.n_inputs}")


def refuse_input_as_output(out: str | os.PathLike[str], inputs: list[Path], option: str = "--out") -> None:
    """One ArtifactError line where the artifact directory `out` is one of the `inputs` a command read (saving
    would replace the artifact it was built from: an evolved controller's genome and metadata, lost)."""
    target = Path(out).resolve()
    for source in inputs:
        if source.resolve() == target:
            raise ArtifactError(f"{option} {out} is the input artifact {source}: it would be replaced; write the "
                                "result elsewhere")


def parameter_table(spec: NetworkSpec) -> list[dict[str, Any]]:
    """The genome's layout as controller.json lists it: each parameter's name, shape and bounds, in genome order."""
    return [
        {"name": e.name, "shape": list(e.shape), "low": bound_to_json(e.low), "high": bound_to_json(e.high)}
        for e in spec.parameters.entries
    ]


def check_parameter_table(listed: Any, spec: NetworkSpec) -> None:
    """ArtifactError naming the first difference if the genome layout controller.json lists (each parameter's name
    and shape, in genome order) is not the one its spec gives with this code (an edited file, or a layout that
    changed between versions: the genome would be read into the wrong parameters). Listed bounds are not compared:
    the spec's bounds rule, and the genome is checked against them."""
    expected = parameter_table(spec)
    if not isinstance(listed, list):
        raise ArtifactError(f"{SPEC_FILE}: 'parameters' must be a list, got {type(listed).__name__}")
    for index, (entry, want) in enumerate(zip(listed, expected, strict=False)):
        if not isinstance(entry, dict) or (entry.get("name"), entry.get("shape")) != (want["name"], want["shape"]):
            name, shape = (entry.get("name"), entry.get("shape")) if isinstance(entry, dict) else (entry, None)
            raise ArtifactError(
                f"{SPEC_FILE}: parameter {index} is listed as {str(name)!r:.60} {shape}, its spec gives "
                f"{want['name']} {want['shape']}; the genome would be read into the wrong parameters"
            )
    if len(listed) != len(expected):
        raise ArtifactError(
            f"{SPEC_FILE}: {len(listed)} parameters listed, the spec gives {len(expected)}; the genome would be read "
            "into the wrong parameters"
        )


def save_controller(
    path: str | os.PathLike[str],
    spec: NetworkSpec,
    genome: Any,
    metadata: Metadata | None = None,
    io: IOAdapters | None = None,
) -> Path:
    """Write an artifact directory atomically (an existing one at `path` is replaced). Returns the path. SpecError
    if `io` does not fit the network (an artifact that would not load is never written)."""
    path = Path(path)
    check_adapters(io or IOAdapters(), spec)
    genome_arr = np.ascontiguousarray(spec.parameters.check(genome)[0])
    blob = save({"genome": genome_arr})
    document = {
        "schema": SCHEMA,
        "spec": spec.to_dict(),
        "io": (io or IOAdapters()).to_dict(),
        "parameters": parameter_table(spec),
        "params_sha256": hashlib.sha256(blob).hexdigest(),
        "metadata": (metadata or Metadata()).__dict__,
    }
    atomic.write_directory(
        path,
        {PARAMS_FILE: blob, SPEC_FILE: (json.dumps(document, indent=1, allow_nan=False) + "\n").encode("utf-8")},
    )
    return path


def load_verified_tensors(path: Path, sha256: Any, listed_in: str) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file whose hash must equal `sha256` (as recorded in `listed_in`); one-line
    ArtifactError if it does not (truncated or modified) or if the file does not parse."""
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ArtifactError(f"{path.name} does not match the hash in {listed_in} (truncated or modified)")
    try:
        return load(blob)
    except (SafetensorError, ValueError, OSError) as exc:
        raise ArtifactError(f"{path.name} is not a valid safetensors file ({exc})") from None


def read_artifact(path: str | os.PathLike[str]) -> tuple[NetworkSpec, np.ndarray, Metadata, IOAdapters]:
    """Read and validate an artifact; raise ArtifactError (one line, naming the artifact) on any problem."""
    path = Path(path)
    try:
        return _read(path)
    except ArtifactError as exc:
        raise ArtifactError(f"artifact {path}: {exc}") from None
    except (SpecError, GenomeError) as exc:
        raise ArtifactError(f"artifact {path}: {exc}") from None


def load_controller(path: str | os.PathLike[str], dtype: torch.dtype = torch.float32) -> Controller:
    spec, genome, metadata, io = read_artifact(path)
    return Controller(spec, genome, metadata, io, dtype)


def _file_kind(path: Path) -> str:
    """What `path` is, for a message: "missing", "a directory", "a FIFO", ... ("a regular file" where it is one)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "missing"
    kinds = {stat.S_ISREG: "a regular file", stat.S_ISDIR: "a directory", stat.S_ISFIFO: "a FIFO",
             stat.S_ISSOCK: "a socket", stat.S_ISCHR: "a character device", stat.S_ISBLK: "a block device"}
    return next((kind for test, kind in kinds.items() if test(mode)), "not a regular file")


def _read(path: Path) -> tuple[NetworkSpec, np.ndarray, Metadata, IOAdapters]:
    if not path.is_dir():
        what = "a file, not a directory" if path.exists() else "not found"
        raise ArtifactError(f"{what} (an artifact is a directory with controller.json and params.safetensors)")
    if not (path / SPEC_FILE).exists() and (path / "ensemble.json").is_file():
        raise ArtifactError("a place-recognition ensemble (ensemble.json), not a controller: use snncontrol vpr")
    spec_path, params_path = path / SPEC_FILE, path / PARAMS_FILE
    for item in (spec_path, params_path):
        kind = _file_kind(item)
        if kind == "missing":
            raise ArtifactError(f"missing {item.name}")
        if kind != "a regular file":
            raise ArtifactError(f"{item.name} is {kind}, not a regular file")
    if spec_path.stat().st_size > MAX_JSON_BYTES or params_path.stat().st_size > MAX_PARAMS_BYTES:
        raise ArtifactError("file too large to be a controller artifact")
    try:
        document = parse_json(spec_path.read_text(encoding="utf-8"), allow_nan=False)
    except UnicodeDecodeError:
        raise ArtifactError(f"{SPEC_FILE} is not UTF-8 text") from None
    except ValueError as exc:
        raise ArtifactError(f"{SPEC_FILE}: {exc}") from None
    if not isinstance(document, dict):
        raise ArtifactError(f"{SPEC_FILE} must hold a JSON object")
    if document.get("schema") != SCHEMA:
        raise ArtifactError(f"unknown schema {document.get('schema')!r:.60} (expected {SCHEMA!r})")
    missing = {"spec", "params_sha256", "metadata"} - set(document)
    if missing:
        raise ArtifactError(f"{SPEC_FILE} is missing field(s): {', '.join(sorted(missing))}")
    spec = _build("spec", NetworkSpec.from_dict, document["spec"])
    metadata = Metadata.from_dict(document["metadata"])
    io = _build("io", IOAdapters.from_dict, document.get("io", {}))
    check_adapters(io, spec)
    if "parameters" in document:
        check_parameter_table(document["parameters"], spec)
    tensors = load_verified_tensors(params_path, document["params_sha256"], SPEC_FILE)
    genome = tensors.get("genome")
    if genome is None or genome.ndim != 1 or len(tensors) != 1:
        found = ", ".join(f"{name!r:.40} {list(tensors[name].shape)}" for name in sorted(tensors)[:4]) or "none"
        raise ArtifactError(f"{PARAMS_FILE} must hold one 1-D tensor 'genome' and nothing else, found {found}")
    if genome.dtype != np.float64:
        raise ArtifactError(f"{PARAMS_FILE}: the genome must be float64, got {genome.dtype}")
    return spec, spec.parameters.check(genome)[0], metadata, io


def _build(field_name: str, factory: Any, data: Any) -> Any:
    """`factory(data)`, turning any TypeError/ValueError/OverflowError that escapes its validation into one
    ArtifactError line naming `field_name` (a SpecError already names its field and passes as it is)."""
    try:
        return factory(data)
    except SpecError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise ArtifactError(f"{SPEC_FILE}: {field_name} is invalid ({described(exc)})") from None
