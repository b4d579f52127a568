"""Ensemble artifacts: a directory, written atomically (temporary sibling, then rename), never pickled.

    ensemble.json          schema, module and training config, places, T, epochs, metadata (`vpr train`: the
                           reference and calibration traversals' absolute paths and the sha256 of each of their
                           preprocessed images, seed, report), sha256 of tensors
    weights.safetensors    weights float32 [M, n_in, N], adaptation float32 [M, N] (mV),
                           assignments int64 [M, N] (-1: silenced), hyperactive uint8 [M, N]
Loading validates everything and raises one `ArtifactError` line naming the artifact and the problem.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.numpy import save

from snncontrol import atomic
from snncontrol.artifacts import git_revision, load_verified_tensors, parse_json
from snncontrol.errors import ArtifactError, first_line
from snncontrol.vpr import config
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.ensemble import Ensemble
from snncontrol.vpr.errors import VprConfigError
from snncontrol.vpr.heldout import Fingerprints

# /2: same-step winner-take-all modules, base thresholds at query time; /1 ensembles (delayed inhibition,
# learned thresholds at query) would answer differently under this code, so they are refused.
SCHEMA = "snncontrol.vpr.ensemble/2"
JSON_FILE, TENSOR_FILE = "ensemble.json", "weights.safetensors"
SHA256 = re.compile(r"[0-9a-f]{64}")


def save_ensemble(path: str | os.PathLike[str], ens: Ensemble) -> Path:
    """Write `ens` to the directory `path` atomically (an existing artifact there is replaced)."""
    path = Path(path)
    blob = save(
        {
            "weights": np.ascontiguousarray(ens.weights.numpy(), dtype=np.float32),
            "adaptation": np.ascontiguousarray(ens.adaptation.numpy(), dtype=np.float32),
            "assignments": np.ascontiguousarray(ens.assignments.numpy(), dtype=np.int64),
            "hyperactive": np.ascontiguousarray(ens.hyperactive.numpy(), dtype=np.uint8),
        }
    )
    document = {
        "schema": SCHEMA,
        "module": config.to_dict(ens.module),
        "train": config.to_dict(ens.train),
        "places": ens.places,
        "threshold": ens.threshold,
        "epochs": ens.epochs,
        "metadata": {"git_revision": git_revision(), **ens.metadata},
        "tensors_sha256": hashlib.sha256(blob).hexdigest(),
    }
    atomic.write_directory(
        path,
        {TENSOR_FILE: blob, JSON_FILE: (json.dumps(document, indent=1, allow_nan=False) + "\n").encode("utf-8")},
    )
    return path


def recorded_sources(metadata: dict[str, Any]) -> dict[str, list[str]]:
    """The traversals an ensemble was trained on ("reference") and tuned on ("calibration"), as `vpr train`
    records them in its metadata (each a path, a list of paths, or absent / null: none); ArtifactError naming
    the field if one is anything else."""
    sources = {}
    for key in ("reference", "calibration"):
        value = metadata.get(key)
        paths = [] if value is None else [value] if isinstance(value, str) else value
        if not (isinstance(paths, list) and all(isinstance(item, str) for item in paths)):
            raise ArtifactError(f"{JSON_FILE}: metadata.{key} must be a path, a list of paths or null, got {value!r}")
        sources[key] = paths
    return sources


def recorded_fingerprints(metadata: dict[str, Any]) -> dict[str, Fingerprints] | None:
    """The sha256 of each preprocessed image (`heldout.fingerprints`) of the traversals an ensemble was trained on
    ("reference": every reference's images, one traversal after the other) and tuned on ("calibration": [] without
    one), as `vpr train` records them in metadata.image_sha256; None where it is absent (an ensemble written
    before they were recorded: only its paths can be checked). ArtifactError naming the field if it is anything
    else."""
    value = metadata.get("image_sha256")
    if value is None:
        return None
    if not (
        isinstance(value, dict)
        and set(value) == {"reference", "calibration"}
        and all(isinstance(prints, list) for prints in value.values())
        and all(item is None or (isinstance(item, str) and SHA256.fullmatch(item))
                for prints in value.values() for item in prints)
    ):
        raise ArtifactError(
            f"{JSON_FILE}: metadata.image_sha256 must map reference and calibration to lists of sha256 hex digests "
            "(or null)"
        )
    return value


def load_ensemble(path: str | os.PathLike[str]) -> Ensemble:
    """Read and validate an ensemble artifact (ArtifactError, one line, on any problem)."""
    path = Path(path)
    try:
        return _load(path)
    except (ArtifactError, VprConfigError) as exc:
        raise ArtifactError(f"ensemble {path}: {exc}") from None


def _load(path: Path) -> Ensemble:
    if not path.is_dir():
        raise ArtifactError(f"not found (an ensemble is a directory with {JSON_FILE} and {TENSOR_FILE})")
    for name in (JSON_FILE, TENSOR_FILE):
        if not (path / name).is_file():
            raise ArtifactError(f"missing {name}")
    try:  # (the controllers' parser: depth and number checks; plain json.loads raised RecursionError on deep nesting)
        document = parse_json((path / JSON_FILE).read_text(encoding="utf-8"), allow_nan=False)
    except UnicodeDecodeError:
        raise ArtifactError(f"{JSON_FILE} is not UTF-8 text") from None
    except ValueError as exc:
        raise ArtifactError(f"{JSON_FILE} is not valid JSON ({first_line(exc)})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ArtifactError(f"unknown schema (expected {SCHEMA!r})")
    missing = {"module", "train", "places", "threshold", "epochs", "metadata", "tensors_sha256"} - set(document)
    if missing:
        raise ArtifactError(f"{JSON_FILE} is missing field(s): {', '.join(sorted(missing))}")
    try:
        module_cfg = config.from_dict(ModuleConfig, document["module"])
        train_cfg = config.from_dict(TrainConfig, document["train"])
    except VprConfigError as exc:
        raise ArtifactError(f"{JSON_FILE}: {exc}") from None
    arrays = load_verified_tensors(path / TENSOR_FILE, document["tensors_sha256"], JSON_FILE)
    places, threshold, epochs = (document[key] for key in ("places", "threshold", "epochs"))
    for key, value, low in (("places", places, 1), ("threshold", threshold, 0), ("epochs", epochs, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ArtifactError(f"{key} must be an integer >= {low}, got {value!r}")
    if not isinstance(document["metadata"], dict):
        raise ArtifactError(f"metadata must be a JSON object, got {document['metadata']!r}")
    recorded_sources(document["metadata"])
    recorded_fingerprints(document["metadata"])
    modules = -(-places // train_cfg.places_per_module)
    shapes = {
        "weights": (modules, module_cfg.n_in, module_cfg.n_exc),
        "adaptation": (modules, module_cfg.n_exc),
        "assignments": (modules, module_cfg.n_exc),
        "hyperactive": (modules, module_cfg.n_exc),
    }
    for name, shape in shapes.items():
        if name not in arrays or arrays[name].shape != shape:
            got = list(arrays[name].shape) if name in arrays else "missing"
            raise ArtifactError(f"tensor {name} must have shape {list(shape)}, got {got}")
    weights, adaptation = arrays["weights"], arrays["adaptation"]
    if not (np.isfinite(weights).all() and np.isfinite(adaptation).all()):
        raise ArtifactError("weights or adaptation hold non-finite values")
    if weights.min() < 0 or weights.max() > module_cfg.w_max:
        raise ArtifactError(f"weights must lie in [0, {module_cfg.w_max}]")
    assignments = arrays["assignments"]
    if assignments.dtype.kind not in "iu" or arrays["hyperactive"].dtype not in (np.bool_, np.uint8):
        raise ArtifactError(f"assignments must be integers and hyperactive booleans (uint8), got "
                            f"{assignments.dtype} and {arrays['hyperactive'].dtype}")
    if arrays["hyperactive"].dtype == np.uint8 and arrays["hyperactive"].max(initial=0) > 1:
        raise ArtifactError("hyperactive must hold only 0 and 1")
    if assignments.min() < -1 or assignments.max() >= places:
        raise ArtifactError(f"assignments must lie in [-1, {places - 1}]")
    return Ensemble(
        module=module_cfg,
        train=train_cfg,
        places=places,
        weights=torch.from_numpy(weights.astype(np.float32)),
        adaptation=torch.from_numpy(adaptation.astype(np.float32)),
        assignments=torch.from_numpy(assignments.astype(np.int64)),
        hyperactive=torch.from_numpy(arrays["hyperactive"].astype(bool)),
        threshold=threshold,
        epochs=epochs,
        metadata=dict(document["metadata"]),
    )
