"""`snncontrol compose ARTIFACT ARTIFACT [...] --out DIR`: controllers side by side as one controller.

    snncontrol compose runs/blimp_pd_lif/best runs/blimp_i_iwta/best --out runs/blimp_pd_i/composite

The networks read the same inputs and their outputs are summed (a PD-SNN and an I-SNN make a PD+I controller),
exactly as they compute apart (`snncontrol.compose`). The I/O adapters are the first controller's; the others
must have the same (numbers to a relative `ADAPTER_RTOL`) or none. `--concatenate` keeps every network's outputs
instead of summing them.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from snncontrol.adapters import IOAdapters
from snncontrol.artifacts import Metadata, read_artifact, refuse_input_as_output, save_controller
from snncontrol.compose import parallel, parallel_genome
from snncontrol.controllers import resolve
from snncontrol.errors import ArtifactError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", help="two or more controller artifacts (or shipped:NAME)")
    parser.add_argument("--out", required=True, help="artifact directory to write")
    parser.add_argument("--name", default="", help="name of the composite network")
    parser.add_argument("--concatenate", action="store_true", help="keep each network's outputs (do not sum)")


#: Relative tolerance of the numbers two adapters must share (a scale of 2*pi/n_links written by two runs may
#: differ in its last bit: 0.954929658551372 and 0.9549296585513721).
ADAPTER_RTOL = 1e-12


def same_values(a: Any, b: Any, rtol: float = ADAPTER_RTOL) -> bool:
    """Whether two JSON-like values are equal, floats to a relative `rtol` (ints, bools, strings, None exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_values(a[key], b[key], rtol) for key in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_values(x, y, rtol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
        return numbers and math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)
    return type(a) is type(b) and a == b


def run(args: argparse.Namespace) -> int:
    if len(args.artifacts) < 2:
        raise ArtifactError("compose needs at least two artifacts")
    sources = [resolve(path) for path in args.artifacts]
    refuse_input_as_output(args.out, sources)
    parts = [read_artifact(source) for source in sources]
    specs = [spec for spec, *_ in parts]
    ios = [io for *_, io in parts]
    io = ios[0]
    allowed = (io.to_dict(), IOAdapters().to_dict())  # the first's, or none (identity)
    if any(not any(same_values(other.to_dict(), ok) for ok in allowed) for other in ios[1:]):
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
