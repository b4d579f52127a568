"""Image-folder traversals and their alignment.

A traversal is a folder of images (.png, .jpg, .jpeg, .bmp, .ppm, .pgm, .tif, .tiff; other files and hidden
ones, whose name starts with a dot, such as macOS's ._000001.png, are ignored) taken in natural name order
(`natural_key`: numbers by value, 2.png before 10.png; timestamps with a decimal fraction by value,
1403636579.763555.png before 1403636579.8.png; zero-padded names sort as text does), one image per place; an
image of more than `MAX_PIXELS` pixels is refused from its header, before it is decoded (a place-recognition
frame is downsampled to tens of pixels anyway). 16-bit grayscale images keep their high byte (`image_pixels`);
floating-point ones are refused (their range is unknown). Reference and query traversals align by index (image
k of the query shows place k of the reference) unless a ground-truth CSV says otherwise:

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
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from snncontrol.vpr.datasets import Transform, Traversal
from snncontrol.vpr.errors import DatasetError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff")
MAX_PIXELS = 25_000_000  # width x height of one image (a 5000 x 5000 frame is 75 MB as RGB)


def check_size(width: int, height: int, where: str) -> None:
    """A DatasetError naming `where` if an image of `width` x `height` pixels (an opened, not yet decoded one, or a
    raw frame's header) has no pixels or more than MAX_PIXELS."""
    if not 0 < width * height <= MAX_PIXELS:
        raise DatasetError(f"image {where} is {width}x{height}: it needs 1 to {MAX_PIXELS} pixels")


def image_pixels(image: Image.Image, where: str) -> np.ndarray:
    """uint8 [H, W] (grayscale) or [H, W, 3] (RGB) pixels of an opened image. 16-bit grayscale (modes I;16*, and
    I as PIL opens a 16-bit PGM, 0..65535) keeps its high byte, value >> 8 (an 8-bit v stored as v * 257 reads v
    again); DatasetError naming `where` for mode I values outside 0..65535 or floating-point pixels (mode F),
    whose range is unknown."""
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"))
    if image.mode == "F":
        raise DatasetError(f"image {where} has floating-point pixels (mode F): save it as 8- or 16-bit")
    if image.mode.startswith("I"):
        values = np.asarray(image)
        if values.min() < 0 or values.max() > 0xFFFF:
            low, high = values.min(), values.max()
            raise DatasetError(f"image {where} has pixel values {low}..{high} (mode I): only 0..65535 can be read")
        return (values.astype(np.uint16) >> 8).astype(np.uint8)
    return np.asarray(image.convert("RGB"))


def read_image(path: Path) -> np.ndarray:
    """uint8 [H, W] (grayscale) or [H, W, 3] (RGB), see `image_pixels`; DatasetError naming the file if it cannot be
    decoded."""
    try:
        with Image.open(path) as image:
            check_size(*image.size, str(path))
            return image_pixels(image, str(path))
    except Image.DecompressionBombError:  # PIL's own limit, above ours, refuses it while reading the header
        raise DatasetError(f"image {path} is over the limit of {MAX_PIXELS} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DatasetError(f"cannot read image {path}: {type(exc).__name__}") from None


#: Digits of the whole seconds of a timestamp name (a Unix time in s has 9 or more since 1973): only after such a run
#: does "." start a decimal fraction (`natural_key`); shorter dotted numbers (cam0.9, 2023.9.30, v1.2.10) are counters
TIMESTAMP_DIGITS = 9


def natural_key(name: str) -> tuple[tuple[str | int | Fraction, ...], str]:
    """Sort key of a file name with its digit runs compared as numbers (frame2.png before frame10.png), and the
    digit run right after a timestamp's whole seconds ("digits." with `TIMESTAMP_DIGITS` or more digits) as the
    fraction of a decimal number: 1403636579.763555.png before 1403636579.8.png before 1403636579.85.png before
    1403636580.05.png before 1403636580.1.png. Other names (000001.png, frame10.png, cam0.12.png, 2023.10.1.png)
    sort as they always did: digit runs as whole numbers; the name itself breaks ties (01.png, 1.png)."""
    parts: list[str | int | Fraction] = []
    seconds = ""  # the digit run before the last separator, where it may be a timestamp's whole seconds
    for k, part in enumerate(re.split(r"([0-9]+)", name)):
        if k % 2 == 0:
            parts.append(part)
            continue
        fraction = parts[-1] == "." and len(seconds) >= TIMESTAMP_DIGITS
        parts.append(Fraction(int(part), 10 ** len(part)) if fraction else int(part))
        seconds = "" if fraction else part
    return tuple(parts), name


def image_files(folder: Path) -> list[Path]:
    """The image files (by suffix, `IMAGE_SUFFIXES`, hidden ones skipped) directly in the folder `folder`, in
    natural name order (`natural_key`); none is an empty list."""
    files = [p for p in folder.iterdir()
             if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file()]
    return sorted(files, key=lambda p: natural_key(p.name))


def list_images(folder: Path) -> list[Path]:
    """The image files of `folder` (`image_files`); DatasetError if it is no folder or has none."""
    if not folder.is_dir():
        raise DatasetError(f"no such image folder: {folder}")
    files = image_files(folder)
    if not files:
        raise DatasetError(f"image folder {folder} is empty (no {'/'.join(IMAGE_SUFFIXES)} files)")
    return files


def load_folder(folder: str | Path, transform: Transform | None = None) -> Traversal:
    """The traversal of an image folder (`list_images`), each image decoded (`read_image`) and passed through
    `transform` one at a time: only the transformed images are kept."""
    folder = Path(folder)
    files = list_images(folder)
    images = [read_image(p) if transform is None else transform(read_image(p)) for p in files]
    return Traversal(str(folder), images, [p.name for p in files])


def read_ground_truth(path: str | Path, reference: Traversal, query: Traversal) -> np.ndarray:
    """[Q] reference index of each query image from a `query,reference` CSV (names or 0-based indices; blank
    lines are skipped)."""
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

    # name -> index of its first image (reversed: two bag images can share a stamp), built once for all rows
    positions = {what: {name: k for k, name in reversed(list(enumerate(traversal.names)))}
                 for what, traversal in (("query", query), ("reference", reference))}

    def index(value: str, traversal: Traversal, what: str, line: int) -> int:
        value = value.strip()
        if value.isascii() and value.isdigit() and value not in positions[what]:
            k = int(value)
            if k >= len(traversal):
                raise DatasetError(f"ground truth {path} line {line}: {what} index {k} >= {len(traversal)} images")
            return k
        if value not in positions[what]:
            raise DatasetError(f"ground truth {path} line {line}: no {what} image {value!r}")
        return positions[what][value]

    truth = np.full(len(query), -1, dtype=np.int64)
    first_line = np.zeros(len(query), dtype=np.int64)
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
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


def align(
    reference: Traversal, query: Traversal, ground_truth: str | Path | None = None, role: str = "query"
) -> np.ndarray:
    """[Q] true reference index per query image: by index (counts must match) or from a ground-truth CSV; `role`
    names the query in messages (e.g. "calibration")."""
    if ground_truth is not None:
        return read_ground_truth(ground_truth, reference, query)
    if len(reference) != len(query):
        raise DatasetError(
            f"reference {reference.source} has {len(reference)} images but {role} {query.source} has "
            f"{len(query)}: aligning by index needs equal counts (or give a ground-truth CSV)"
        )
    return np.arange(len(query))
