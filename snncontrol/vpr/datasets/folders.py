"""Image-folder traversals and their alignment.

A traversal is a folder of images (.png, .jpg, .jpeg, .bmp, .ppm; other files are ignored) taken in
name order, one image per place; an image of more than `MAX_PIXELS` pixels is refused from its header,
before it is decoded (a place-recognition frame is downsampled to tens of pixels anyway). Reference and query
traversals align by index (image k of the query shows place k of the reference) unless a ground-truth CSV says
otherwise:

    query,reference          header; then one row per query image
    000000.png,000000.png    file names (in the respective folders) or 0-based indices

A match counts as correct within `tolerance` frames of the ground-truth reference index. Nordland-style
layout (frames synchronised by number across seasons), e.g.

    nordland/summer/00001.png ...   -> --reference nordland/summer
    nordland/winter/00001.png ...   -> --query nordland/winter    (aligned by index, tolerance 1-2 frames)

`snncontrol make-route` writes the same layout (OUT/<traversal>/000000.png).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from snncontrol.vpr.datasets import Traversal
from snncontrol.vpr.errors import DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm")
MAX_PIXELS = 25_000_000  # width x height of one image (a 5000 x 5000 frame is 75 MB as RGB)


def check_size(width: int, height: int, where: str) -> None:
    """A DatasetError naming `where` if an image of `width` x `height` pixels (an opened, not yet decoded one, or a
    raw frame's header) has no pixels or more than MAX_PIXELS."""
    if not 0 < width * height <= MAX_PIXELS:
        raise DatasetError(f"image {where} is {width}x{height}: it needs 1 to {MAX_PIXELS} pixels")


def read_image(path: Path) -> np.ndarray:
    """uint8 [H, W] (grayscale) or [H, W, 3] (RGB); DatasetError naming the file if it cannot be decoded."""
    try:
        with Image.open(path) as image:
            check_size(*image.size, str(path))
            image = image.convert("L") if image.mode in ("L", "I", "I;16", "F", "1") else image.convert("RGB")
            return np.asarray(image, dtype=np.uint8)
    except Image.DecompressionBombError:  # PIL's own limit, above ours, refuses it while reading the header
        raise DatasetError(f"image {path} is over the limit of {MAX_PIXELS} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DatasetError(f"cannot read image {path}: {type(exc).__name__}") from None


def list_images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DatasetError(f"no such image folder: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise DatasetError(f"image folder {folder} is empty (no {'/'.join(IMAGE_SUFFIXES)} files)")
    return files


def load_folder(folder: str | Path) -> Traversal:
    folder = Path(folder)
    files = list_images(folder)
    return Traversal(str(folder), [read_image(p) for p in files], [p.name for p in files])


def read_ground_truth(path: str | Path, reference: Traversal, query: Traversal) -> np.ndarray:
    """[Q] reference index of each query image from a `query,reference` CSV (names or 0-based indices)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no such ground-truth file: {path}")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: the byte order mark Excel writes
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"ground truth {path}: not a UTF-8 CSV file ({exc})") from None
    if not rows or [c.strip() for c in rows[0][:2]] != ["query", "reference"]:
        raise DatasetError(f"ground truth {path}: the first line must be the header 'query,reference'")

    def index(value: str, traversal: Traversal, what: str, line: int) -> int:
        value = value.strip()
        if value.isascii() and value.isdigit() and value not in traversal.names:
            k = int(value)
            if k >= len(traversal):
                raise DatasetError(f"ground truth {path} line {line}: {what} index {k} >= {len(traversal)} images")
            return k
        try:
            return traversal.names.index(value)
        except ValueError:
            raise DatasetError(f"ground truth {path} line {line}: no {what} image {value!r}") from None

    truth = np.full(len(query), -1, dtype=np.int64)
    first_line = np.zeros(len(query), dtype=np.int64)
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < 2:
            raise DatasetError(f"ground truth {path} line {line}: expected 'query,reference'")
        q = index(row[0], query, "query", line)
        if first_line[q]:
            raise DatasetError(f"ground truth {path} line {line}: query image {query.names[q]} has a row already "
                               f"(line {first_line[q]})")
        truth[q], first_line[q] = index(row[1], reference, "reference", line), line
    missing = np.flatnonzero(truth < 0)
    if len(missing):
        raise DatasetError(
            f"ground truth {path} has no row for query image {query.names[missing[0]]} "
            f"({len(missing)} of {len(query)} missing)"
        )
    return truth


def align(reference: Traversal, query: Traversal, ground_truth: str | Path | None = None) -> np.ndarray:
    """[Q] true reference index per query image: by index (counts must match) or from a ground-truth CSV."""
    if ground_truth is not None:
        return read_ground_truth(ground_truth, reference, query)
    if len(reference) != len(query):
        raise DatasetError(
            f"reference {reference.source} has {len(reference)} images but query {query.source} has "
            f"{len(query)}: aligning by index needs equal counts (or give a ground-truth CSV)"
        )
    return np.arange(len(query))
