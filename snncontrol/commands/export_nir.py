"""`snncontrol export-nir ARTIFACT OUT.nir`: write a controller as a NIR graph (HDF5) for other SNN tools.

The file holds the controller's I/O adapters too (graph metadata "io"). Features NIR has no node for (soft reset,
refractory period, threshold adaptation, the sample-hold input stage: `snncontrol.nir_io`) live in its metadata
only, which other tools ignore: they simulate another network. The command says which in one warning line on
stderr; `--strict` refuses such a controller instead.
"""

from __future__ import annotations

import argparse
import sys

from snncontrol.artifacts import read_artifact
from snncontrol.controllers import resolve
from snncontrol.errors import ArtifactError
from snncontrol.nir_io import check_nir_output, metadata_only_features, save_nir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifact", help="controller artifact directory, or shipped:NAME (e.g. shipped:blimp)")
    parser.add_argument("output", help="NIR file to write (HDF5; a name ending in .nir, .h5 or .hdf5)")
    parser.add_argument(
        "--strict", action="store_true",
        help="refuse features other tools cannot read (soft reset, refractory period, threshold adaptation, "
        "sample-hold input) instead of writing them to metadata only, with a warning",
    )


def run(args: argparse.Namespace) -> int:
    check_nir_output(args.output)  # before reading the artifact: a mistyped output fails at once
    spec, genome, _, adapters = read_artifact(resolve(args.artifact))
    try:
        path = save_nir(args.output, spec, genome, strict=args.strict, adapters=adapters)
    except OSError as exc:  # a directory, a folder that is a file, no permission (atomic's messages name the output)
        raise ArtifactError(f"cannot write the NIR file {args.output}: {exc.strerror}" if exc.strerror
                            else str(exc)) from None
    print(f"wrote {path}")
    unseen = metadata_only_features(spec)
    if unseen:
        print(f"snncontrol export-nir: warning: NIR has no equivalent of {'; '.join(unseen)}: they are in "
              "snncontrol's metadata only, so another NIR reader simulates a different network (--strict refuses "
              "them)", file=sys.stderr)
    return 0
