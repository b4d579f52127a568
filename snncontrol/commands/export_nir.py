"""`snncontrol export-nir ARTIFACT OUT.nir`: write a controller as a NIR graph (HDF5) for other SNN tools."""

from __future__ import annotations

import argparse

from snncontrol.artifacts import read_artifact
from snncontrol.controllers import resolve
from snncontrol.errors import ArtifactError
from snncontrol.nir_io import save_nir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", help="controller artifact directory, or shipped:NAME (e.g. shipped:blimp)")
    parser.add_argument("output", help="NIR file to write (.nir, HDF5)")
    parser.add_argument(
        "--strict", action="store_true", help="refuse features other tools cannot read (soft reset, refractory period)"
    )


def run(args: argparse.Namespace) -> int:
    spec, genome, _, _ = read_artifact(resolve(args.artifact))
    try:
        path = save_nir(args.output, spec, genome, strict=args.strict)
    except OSError as exc:  # a directory, a parent that is a file, no permission
        raise ArtifactError(f"cannot write the NIR file {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {path}")
    return 0
