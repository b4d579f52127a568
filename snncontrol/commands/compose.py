"""`snncontrol compose ARTIFACT ARTIFACT [...] --out DIR`: controllers side by side as one controller.

    snncontrol compose runs/blimp_pd_lif/best runs/blimp_i_iwta/best --out runs/blimp_pd_i/composite

The networks read the same inputs and their outputs are summed (a PD-SNN and an I-SNN make a PD+I controller),
exactly as they compute apart (`snncontrol.compose`). The I/O adapters are the first controller's; the others
must have the same or none. `--concatenate` keeps every network's outputs instead of summing them.
"""

from __future__ import annotations

import argparse

from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Metadata, read_artifact, save_controller
from snncontrol.compose import parallel, parallel_genome
from snncontrol.controllers import resolve
from snncontrol.errors import ArtifactError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", help="two or more controller artifacts (or shipped:NAME)")
    parser.add_argument("--out", required=True, help="artifact directory to write")
    parser.add_argument("--name", default="", help="name of the composite network")
    parser.add_argument("--concatenate", action="store_true", help="keep each network's outputs (do not sum)")


def run(args: argparse.Namespace) -> int:
    if len(args.artifacts) < 2:
        raise ArtifactError("compose needs at least two artifacts")
    parts = [read_artifact(resolve(path)) for path in args.artifacts]
    specs = [spec for spec, *_ in parts]
    ios = [io for *_, io in parts]
    io = ios[0]
    if any(other.to_dict() not in (io.to_dict(), IOAdapters().to_dict()) for other in ios[1:]):
        raise ArtifactError("the controllers have different I/O adapters; compose controllers of one plant")
    sum_outputs = not args.concatenate
    spec = parallel(specs, args.name, sum_outputs)
    genome = parallel_genome(specs, [genome for _, genome, *_ in parts], sum_outputs)
    metadata = Metadata(
        description=f"{'sum' if sum_outputs else 'concatenation'} of {', '.join(args.artifacts)}",
        extra={"parts": [{"artifact": str(path), "name": s.name, "fitness": m.fitness}
                         for path, (s, _, m, _) in zip(args.artifacts, parts, strict=True)]},
    )
    path = save_controller(args.out, spec, genome, metadata, io)
    print(f"wrote {path}: {spec.n_neurons} neurons ({' + '.join(str(s.n_neurons) for s in specs)}"
          f"{f' + {spec.layers[-1].name}' if sum_outputs else ''}), {spec.parameters.size} parameters")
    return 0
