"""`snncontrol blimp-integrator --pd ARTIFACT --out DIR`: a PD-SNN beside a constructed spiking integrator.

    snncontrol blimp-integrator --pd runs/blimp_pd_i_finetune3/best --out runs/blimp_pd_i_integrator/composite
    snncontrol blimp-integrator --pd constructed --out runs/blimp_pd_i_constructed/best   # shipped until 2026-12-06

`--pd` is a blimp PD-SNN artifact, a PD+I composite whose PD-SNN is kept (its I-SNN is replaced), or
`constructed`: the spiking PD of `snncontrol.controllers.blimp.spiking_pd` (gains `--kp`, `--kd`; its encoding,
size and decays by the options that say "constructed PD"), with the blimp plant's I/O adapters; beside it an
I-SNN of the paper's size (10 encoder pairs, 59 hidden neurons); beside an artifact's PD-SNN, one of its size.
The I-SNN is the paper's architecture with its parameters set to integrate the
error (`snncontrol.controllers.blimp.integrator`); the result is one PD+I controller with the PD's I/O adapters
(`benchmarks/blimp_pipeline.py` builds the seed of the shipped controller this way, docs/blimp.md). An option
that puts an integrator parameter outside its bounds is one line naming the option and its valid range.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from snncontrol.arguments import bounded
from snncontrol.artifacts import Metadata, read_artifact, refuse_input_as_output, save_controller
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp.integrator import blimp_parts, detector_scale, pd_with_integrator
from snncontrol.controllers.blimp.networks import I_READOUT_DECAY_MAX, PAPER_SIZE, i_snn
from snncontrol.controllers.blimp.spiking_pd import INTEGRATOR_GAIN, constructed_pd_i
from snncontrol.errors import GenomeError, SnnControlError

FINITE = bounded(float, -math.inf)  # (inf reached the construction: a RuntimeWarning before the one line)
MAX_PAIRS, MAX_HIDDEN = 200, 1000  # a constructed PD's size (the paper's: 10 and 59; the construction is O(size^2))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pd", required=True,
                        help="PD-SNN or PD+I composite artifact (or shipped:NAME), or 'constructed' (spiking PD)")
    parser.add_argument("--out", required=True, help="artifact directory to write")
    parser.add_argument("--kp", type=FINITE, default=None, help="constructed PD: command per m of error (default 3)")
    parser.add_argument("--kd", type=FINITE, default=None, help="constructed PD: command per m/s (default 12)")
    parser.add_argument("--far", type=int, default=0,
                        help="constructed PD: far-field neurons per sign that saturate it (default 0: linear PD)")
    parser.add_argument("--push", type=FINITE, default=None,
                        help="constructed PD: command at 0.5 m of error with --far (default 3.3, full thrust)")
    parser.add_argument("--far-kd", type=FINITE, default=None,
                        help="constructed PD: the far field's derivative time, s (default 1)")
    parser.add_argument("--far-linear", action="store_true",
                        help="constructed PD: the far field reads the error's linear code, not the count of pairs")
    parser.add_argument("--thermometer", type=FINITE, default=None, metavar="POWER",
                        help="constructed PD: memoryless thermometer encoder pairs whose levels grow as (k/n)**POWER "
                             "to 0.5 m, instead of the rate code (docs/blimp.md)")
    parser.add_argument("--pairs", type=bounded(int, 2, MAX_PAIRS), default=None,
                        help="constructed PD: encoder pairs, the last one tonic (default 10)")
    parser.add_argument("--hidden", type=bounded(int, 2, MAX_HIDDEN), default=None,
                        help="constructed PD: hidden neurons (default 59)")
    parser.add_argument("--synaptic-decay", type=FINITE, default=None,
                        help="constructed PD: hidden synaptic decay per step (default 0.3)")
    parser.add_argument("--threshold-decay", type=FINITE, default=None,
                        help="constructed PD: hidden threshold adaptation's decay per step (default 0.8)")
    parser.add_argument("--readout-decay", type=FINITE, default=None,
                        help="constructed PD: readout decay per step (default 0.6)")
    parser.add_argument("--gain", type=FINITE, default=None,
                        help=f"integrating input weight (default 0.0125; {INTEGRATOR_GAIN} beside the constructed PD)")
    parser.add_argument("--readout-weight", type=FINITE, default=0.04,
                        help="command per integrating spike, before the readout's decay (default 0.04)")
    parser.add_argument("--offset", type=FINITE, default=0.4, help="constant command units (default 0.4)")
    parser.add_argument("--leak", type=FINITE, default=0.998, help="integrator decay per step (default 0.998)")
    parser.add_argument("--detector-pairs", type=int, default=4,
                        help="encoder pairs that stop the integration at large errors (default 4; 0: none)")
    parser.add_argument("--detector-bias", type=FINITE, default=-0.1, help="their shared bias (default -0.1)")
    parser.add_argument("--detector-gain", type=FINITE, default=1.0,
                        help="their drive relative to the one that cancels the integration (default 1)")


def _refuse_unused(args: argparse.Namespace) -> None:
    """One line for an option that would be ignored (it read as set and did nothing)."""
    constructed = {"--kp": args.kp, "--kd": args.kd, "--far": args.far or None, "--thermometer": args.thermometer,
                   "--pairs": args.pairs, "--hidden": args.hidden, "--synaptic-decay": args.synaptic_decay,
                   "--threshold-decay": args.threshold_decay, "--readout-decay": args.readout_decay}
    far_field = {"--push": args.push, "--far-kd": args.far_kd, "--far-linear": args.far_linear or None}
    if args.pd != "constructed":
        given = [name for name, value in {**constructed, **far_field}.items() if value is not None]
        if given:
            raise SnnControlError(f"{', '.join(given)} shape the constructed PD: they need --pd constructed")
    elif not args.far and (given := [name for name, value in far_field.items() if value is not None]):
        raise SnnControlError(f"{', '.join(given)} shape the far field: they need --far N (N > 0)")


def _explain_bounds(settings: dict[str, Any], n_pairs: int) -> None:
    """One line naming the option of `settings` (`integrator_genome` keywords) whose value puts an integrator
    parameter (of an I-SNN of `n_pairs` encoder pairs) outside its bounds, with the option's valid range (the others
    as given); nothing if none does."""
    entries = i_snn("iwta", n_pairs, 3).parameters.by_name
    pairs = settings["detector_pairs"]
    detector = settings["gain"] * detector_scale(n_pairs, pairs) if pairs else 0.0
    # keyword, the parameter it sets, the factors of its value that parameter takes (integrator_genome)
    sets = [("leak", "hidden.decay_syn", (1.0,)), ("gain", "hidden.w_in", (1.0, -1.0)),
            ("readout_weight", "readout.w_in", (1.0, -1.0)), ("offset", "readout.w_in", (1.0 - I_READOUT_DECAY_MAX,)),
            ("detector_bias", "encoder.bias", (1.0,) if pairs else ()),
            ("detector_gain", "hidden.w_in", (detector, -detector) if pairs else ())]
    for key, name, factors in sets:
        option, value = f"--{key.replace('_', '-')}", settings[key]  # (finite: the parser's type)
        low, high = float(np.max(entries[name].low)), float(np.min(entries[name].high))
        factors = tuple(f for f in factors if f != 0.0)
        if factors and not all(low <= f * value <= high for f in factors):
            lo = max(min(low / f, high / f) for f in factors)
            hi = min(max(low / f, high / f) for f in factors)
            given = f", with --gain {settings['gain']:g} and --detector-pairs {pairs}" if key == "detector_gain" else ""
            raise SnnControlError(f"{option} {value:g} is out of range: give {lo:.6g} .. {hi:.6g}{given} (it sets the "
                                  f"integrator's {name}, bounded to {low:g} .. {high:g})")


def run(args: argparse.Namespace) -> int:
    _refuse_unused(args)
    pairs, hidden = (PAPER_SIZE[0] if args.pairs is None else args.pairs,
                     PAPER_SIZE[1] if args.hidden is None else args.hidden)
    if args.pd == "constructed":
        pd_spec, genome = None, None
        pd_settings: dict = {"kp": 3.0 if args.kp is None else args.kp, "kd": 12.0 if args.kd is None else args.kd}
        optional = {"thermometer": args.thermometer, "synaptic_decay": args.synaptic_decay,
                    "threshold_decay": args.threshold_decay, "readout_decay": args.readout_decay}
        pd_settings.update({key: value for key, value in optional.items() if value is not None})
        if args.far:
            pd_settings.update(far=args.far, push=3.3 if args.push is None else args.push,
                               far_kd=1.0 if args.far_kd is None else args.far_kd, far_linear=args.far_linear)
        default_gain, i_pairs = INTEGRATOR_GAIN, PAPER_SIZE[0]  # (constructed_pd_i: the paper's I-SNN beside it)
    else:
        source = resolve(args.pd)
        refuse_input_as_output(args.out, [source])
        pd_spec, genome, _, io = read_artifact(source)
        pd_settings, default_gain = {}, 0.0125
        # the I-SNN's pairs as pd_with_integrator sizes it: a composite's, or beside a bare PD-SNN its own
        i_pairs = (blimp_parts(pd_spec) or (pd_spec, pd_spec))[1].layers[0].size // 2
    gain = default_gain if args.gain is None else args.gain
    settings = {"gain": gain, "readout_weight": args.readout_weight, "offset": args.offset, "leak": args.leak,
                "detector_pairs": args.detector_pairs, "detector_bias": args.detector_bias,
                "detector_gain": args.detector_gain}
    try:
        if pd_spec is None:  # the constructed PD+I (the construction an evolution config's blimp.pd_i evolves)
            composite, composite_genome, io = constructed_pd_i(pairs, hidden, **pd_settings, **settings)
        else:
            composite, composite_genome = pd_with_integrator(pd_spec, genome, **settings)
    except GenomeError:
        _explain_bounds(settings, i_pairs)
        raise
    if pd_settings and (args.pairs is not None or args.hidden is not None):
        pd_settings["size"] = [pairs, hidden]  # recorded with the gains
    what = "a constructed spiking PD" if pd_settings else f"the PD-SNN of {args.pd}"
    metadata = Metadata(description=f"{what} beside a constructed spiking integrator",
                        extra={"pd": str(args.pd), **({"pd_gains": pd_settings} if pd_settings else {}),
                               "integrator": settings})
    path = save_controller(args.out, composite, composite_genome, metadata, io)
    print(f"wrote {path}: {composite.n_neurons} neurons, {composite.parameters.size} parameters")
    return 0
