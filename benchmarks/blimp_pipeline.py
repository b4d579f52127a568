"""The whole blimp PD+I SNN pipeline, each step a documented `snncontrol` command, skipped when its output exists:

    .venv/bin/python benchmarks/blimp_pipeline.py [--ship] [--from STEP]

 1. datasets   snncontrol blimp-dataset out/blimp_pd.npz --kind pd --seed 0          (blimp flights, PD target)
               snncontrol blimp-dataset out/blimp_i.npz --kind i --seed 0            (the paper's double integrator)
               snncontrol blimp-dataset out/blimp_i_blimp.npz --kind i-blimp --seed 0  (blimp flights, I target)
 2. mimicry    snncontrol evolve configs/blimp_pd_{lif,iwta,rlif,riwta}.yaml     (open-loop PD-SNN per variant)
               snncontrol evolve configs/blimp_i_iwta.yaml                       (open-loop I-SNN, paper's data)
               snncontrol evolve configs/blimp_i_blimp_iwta.yaml                 (open-loop I-SNN, blimp flights)
 3. compose    snncontrol compose runs/blimp_pd_lif/best runs/blimp_i_blimp_iwta/best --out runs/blimp_pd_i/composite
               snncontrol compose runs/blimp_pd_lif/best runs/blimp_i_iwta/best --out runs/blimp_pd_i/composite_di
 4. finetune   snncontrol evolve configs/blimp_pd_i_finetune.yaml                (closed loop, randomized plants)
               snncontrol evolve configs/blimp_pd_i_di_finetune.yaml             (the same from composite_di)
               snncontrol evolve configs/blimp_pd_i_finetune3.yaml               (stage 1 continued: the shipped one)
               snncontrol evolve configs/blimp_pd_i_finetune2.yaml               (stage 2: + overshoot term)
               snncontrol evolve configs/blimp_pd_i_finetune4.yaml               (the same from the shipped one)
 5. nsga2      snncontrol evolve configs/blimp_pd_i_nsga2.yaml                   (tracking error vs energy)
 6. integrator snncontrol blimp-integrator --pd runs/blimp_pd_i_finetune3/best
                   --out runs/blimp_pd_i_integrator/composite  (its PD-SNN beside a constructed integrator I-SNN)
               snncontrol evolve configs/blimp_pd_i_integrator_finetune.yaml  (its PD-SNN fine-tuned, I-SNN fixed)
               snncontrol evolve configs/blimp_pd_i_steady_finetune.yaml  (then on the steady-state error)
 7. construct  snncontrol blimp-integrator --pd constructed --out runs/blimp_pd_i_constructed/best
                   (a constructed spiking PD-SNN beside the constructed integrator: the shipped PD+I)
               snncontrol evolve configs/blimp_pd_i_constructed_finetune.yaml  (its PD-SNN's decays fine-tuned)
 8. ship       (--ship) runs/blimp_pd_i_constructed/best -> snncontrol/controllers/blimp_pd_i (+ blimp_pd_i.nir)
 9. report     benchmarks/blimp_report.py: README tables and plots

An interrupted evolution step resumes from its checkpoint. On the 2-core development machine the evolution steps
took about 3 hours in all, much of it shared with other jobs (the minutes of each are in the README tables).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PD_VARIANTS = ("lif", "iwta", "rlif", "riwta")
DATASETS = {"pd": "blimp_pd.npz", "i": "blimp_i.npz", "i-blimp": "blimp_i_blimp.npz"}
COMPOSITES = {"composite": "blimp_i_blimp_iwta", "composite_di": "blimp_i_iwta"}  # PD LIF + this I-SNN
SHIPPED = ROOT / "snncontrol" / "controllers" / "blimp_pd_i"
INTEGRATOR = ROOT / "runs" / "blimp_pd_i_integrator" / "composite"
CONSTRUCTED = ROOT / "runs" / "blimp_pd_i_constructed" / "best"
STEPS = ("datasets", "mimicry", "compose", "finetune", "nsga2", "integrator", "construct", "ship", "report")


def sh(*command: str) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, cwd=ROOT, check=True)


def evolve(config: str) -> None:
    """Run (or resume, or skip when finished) the evolution of configs/CONFIG.yaml."""
    import yaml

    data = yaml.safe_load((ROOT / "configs" / f"{config}.yaml").read_text())
    run_dir = ROOT / data["output"]["run_dir"]
    logbook = run_dir / "logbook.csv"
    if logbook.is_file() and sum(1 for _ in logbook.open()) - 1 >= data["generations"]:
        print(f"  {config}: finished ({run_dir.relative_to(ROOT)})", flush=True)
        return
    if (run_dir / "checkpoints" / "latest.json").is_file():
        sh(str(BIN / "snncontrol"), "evolve", "--resume", str(run_dir.relative_to(ROOT)), "--quiet")
    else:
        sh(str(BIN / "snncontrol"), "evolve", f"configs/{config}.yaml", "--quiet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ship", action="store_true", help="replace the shipped controller with the new PD+I one")
    parser.add_argument("--from", dest="start", choices=STEPS, default=STEPS[0], help="first step to run")
    args = parser.parse_args(argv)
    todo = STEPS[STEPS.index(args.start) :]
    snncontrol = str(BIN / "snncontrol")
    if "datasets" in todo:
        for kind, name in DATASETS.items():
            if not (ROOT / "out" / name).is_file():
                sh(snncontrol, "blimp-dataset", f"out/{name}", "--kind", kind, "--seed", "0")
    if "mimicry" in todo:
        for variant in PD_VARIANTS:
            evolve(f"blimp_pd_{variant}")
        evolve("blimp_i_iwta")
        evolve("blimp_i_blimp_iwta")
    if "compose" in todo:
        for composite, i_snn in COMPOSITES.items():
            if not (ROOT / "runs" / "blimp_pd_i" / composite).is_dir():
                sh(snncontrol, "compose", "runs/blimp_pd_lif/best", f"runs/{i_snn}/best", "--out",
                   f"runs/blimp_pd_i/{composite}", "--name", "blimp_pd_i_snn")
    if "finetune" in todo:
        evolve("blimp_pd_i_finetune")
        evolve("blimp_pd_i_di_finetune")
        evolve("blimp_pd_i_finetune3")
        evolve("blimp_pd_i_finetune2")
        evolve("blimp_pd_i_finetune4")
    if "nsga2" in todo:
        evolve("blimp_pd_i_nsga2")
    if "integrator" in todo:
        if not INTEGRATOR.is_dir():
            sh(snncontrol, "blimp-integrator", "--pd", "runs/blimp_pd_i_finetune3/best", "--out",
               str(INTEGRATOR.relative_to(ROOT)))
        evolve("blimp_pd_i_integrator_finetune")
        evolve("blimp_pd_i_steady_finetune")
    if "construct" in todo:
        if not CONSTRUCTED.is_dir():
            sh(snncontrol, "blimp-integrator", "--pd", "constructed", "--out", str(CONSTRUCTED.relative_to(ROOT)))
        evolve("blimp_pd_i_constructed_finetune")
    if "ship" in todo and args.ship:
        ship(CONSTRUCTED)
    if "report" in todo:
        sh(sys.executable, "benchmarks/blimp_report.py")
    return 0


def ship(source: Path) -> None:
    """Copy an artifact into the package as the shipped blimp controller, with its NIR export beside it."""
    sys.path.insert(0, str(ROOT))
    from snncontrol.artifacts import read_artifact, save_controller
    from snncontrol.nir_io import save_nir

    spec, genome, metadata, io = read_artifact(source)
    metadata.description = (
        "PD+I SNN for blimp altitude: the paper's PD-SNN and I-SNN architectures (Burgers et al. 2023), "
        "parameters constructed to make a spiking PD and a spiking integrator (snncontrol.controllers.blimp."
        "spiking_pd, .integrator), gains chosen in closed loop on randomized MuJoCo plants "
        "(benchmarks/blimp_pipeline.py)"
    )
    save_controller(SHIPPED, spec, genome, metadata, io)
    save_nir(SHIPPED.with_suffix(".nir"), spec, genome)
    print(f"shipped {source.relative_to(ROOT)} -> {SHIPPED.relative_to(ROOT)} (+ {SHIPPED.name}.nir)", flush=True)


if __name__ == "__main__":
    sys.exit(main())
