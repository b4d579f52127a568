"""`snncontrol blimp-integrator --pd ARTIFACT --out DIR`: a PD-SNN beside a constructed spiking integrator.

    snncontrol blimp-integrator --pd snncontrol/controllers/blimp_pd_i --out runs/blimp_pd_i_integrator/composite

`--pd` is a blimp PD-SNN artifact, or a PD+I composite whose PD-SNN is kept (its I-SNN is replaced). The
I-SNN is the paper's architecture with its parameters set to integrate the error
(`snncontrol.controllers.blimp.integrator`); the result is one PD+I controller with the PD's I/O adapters
(`benchmarks/blimp_pipeline.py` builds the shipped controller this way).
"""

from __future__ import annotations

import argparse

from snncontrol.artifacts import Metadata, read_artifact, save_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp.integrator import pd_with_integrator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pd", required=True, help="PD-SNN or PD+I composite artifact (or shipped:NAME)")
    parser.add_argument("--out", required=True, help="artifact directory to write")
    parser.add_argument("--gain", type=float, default=0.0125, help="integrating input weight (default 0.0125)")
    parser.add_argument("--readout-weight", type=float, default=0.04,
                        help="command per integrating spike, before the readout's decay (default 0.04)")
    parser.add_argument("--offset", type=float, default=0.4, help="constant command units (default 0.4)")
    parser.add_argument("--leak", type=float, default=0.998, help="integrator decay per step (default 0.998)")
    parser.add_argument("--detector-pairs", type=int, default=4,
                        help="encoder pairs that stop the integration at large errors (default 4; 0: none)")
    parser.add_argument("--detector-bias", type=float, default=-0.1, help="their shared bias (default -0.1)")
    parser.add_argument("--detector-gain", type=float, default=1.0,
                        help="their drive relative to the one that cancels the integration (default 1)")


def run(args: argparse.Namespace) -> int:
    source = resolve(args.pd)
    spec, genome, _, io = read_artifact(source)
    settings = {"gain": args.gain, "readout_weight": args.readout_weight, "offset": args.offset, "leak": args.leak,
                "detector_pairs": args.detector_pairs, "detector_bias": args.detector_bias,
                "detector_gain": args.detector_gain}
    composite, composite_genome = pd_with_integrator(spec, genome, **settings)
    metadata = Metadata(description=f"the PD-SNN of {args.pd} beside a constructed spiking integrator",
                        extra={"pd": str(args.pd), "integrator": settings})
    path = save_controller(args.out, composite, composite_genome, metadata, io)
    print(f"wrote {path}: {composite.n_neurons} neurons, {composite.parameters.size} parameters")
    return 0
