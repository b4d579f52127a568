"""Images trained or tuned on are no test: a calibration traversal must show other images than the references, a
query other images than the references and than the calibration traversal the ensemble was chosen on, and
several references other images than each other; else a score measures memory, not recognition.

Two checks, each a DatasetError line naming the option, the traversal and what it repeats:
- by path (`refuse_path`): the same file or folder once resolved (a link, a trailing /.); quick, before any image
  is read;
- by content (`refuse_shared`): the sha256 of each preprocessed image (`fingerprints`: the network's input, the
  size x size values 0..255 as bytes), so an image folder and the bag `make-route` writes beside it (the same
  pixels), a copied folder, or a copy in another lossless image format are caught. `vpr train` records the
  fingerprints of the references and of the calibration traversal in the ensemble
  (`artifact.recorded_fingerprints`); an ensemble written before that has only the paths it records checked.
A uniform image (a lens cap, a dropped frame: every preprocessed pixel the same) shows no place and gets no
fingerprint (None): such frames in two traversals are no overlap.

The converse check (`refuse_untrained`): `vpr eval`'s references must be, image for image, references the
ensemble was trained on (its place numbers and its SAD baseline mean nothing against another route's images).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from snncontrol.vpr.datasets import Traversal
from snncontrol.vpr.errors import DatasetError

Fingerprints = list[str | None]
ADVICE = "give another traversal of the places"


def fingerprints(pixels: torch.Tensor) -> Fingerprints:
    """The sha256 (hex) of each preprocessed image [B, size * size] (integers 0..255, `preprocess.preprocess`);
    None for a uniform one."""
    values = pixels.to(torch.uint8).numpy()
    uniform = (values == values[:, :1]).all(axis=1)
    return [None if flat else hashlib.sha256(np.ascontiguousarray(row).tobytes()).hexdigest()
            for row, flat in zip(values, uniform, strict=True)]


def refuse_path(option: str, path: str, used: dict[str, Sequence[str]]) -> None:
    """A DatasetError if the traversal `path` given to `option` resolves to the same file or folder as one of
    `used` (what it would repeat -> paths)."""
    target = Path(path).resolve()
    for role, paths in used.items():
        if any(Path(other).resolve() == target for other in paths):
            raise DatasetError(f"{option} {path} is {role}: {ADVICE}")


def refuse_shared(option: str, traversal: Traversal, prints: Fingerprints, used: dict[str, Fingerprints]) -> None:
    """A DatasetError if an image of `traversal` (given to `option`, `prints` its `fingerprints`) is one of those
    of `used` (what it would repeat -> their fingerprints)."""
    for role, others in used.items():
        seen = set(others) - {None}
        shared = [k for k, fingerprint in enumerate(prints) if fingerprint in seen]
        if shared:
            raise DatasetError(
                f"{option} {traversal.source} has {len(shared)} of its {len(prints)} images in {role} (the first: "
                f"{traversal.names[shared[0]]}): {ADVICE}"
            )


def refuse_untrained(option: str, traversal: Traversal, prints: Fingerprints, trained: Fingerprints, places: int,
                     trained_on: str) -> None:
    """A DatasetError unless `traversal` (given to `option`, `prints` its `fingerprints`) shows, image for image,
    one of the reference traversals the ensemble was trained on: `trained` holds their fingerprints, traversal
    after traversal, `places` each; `trained_on` says which they were. Content, not paths, decides: the same
    images in another folder or format (the bag `make-route` writes beside a folder) pass. A traversal of
    another length than `places` is left to the count check (`evaluate.evaluate`)."""
    if len(prints) != places:
        return
    runs = [trained[start : start + places] for start in range(0, len(trained), places)]
    if any(prints == run for run in runs):
        return
    differ = min(([k for k in range(places) if k >= len(run) or prints[k] != run[k]] for run in runs),
                 key=len, default=list(range(places)))
    raise DatasetError(
        f"{option} {traversal.source} shows other images than the references the ensemble was trained on "
        f"({trained_on}): {len(differ)} of its {places} differ (the first: {traversal.names[differ[0]]}); give a "
        "traversal it was trained on"
    )
