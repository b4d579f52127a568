"""Controllers shipped with snncontrol, as artifacts in this package (see `snncontrol.artifacts`)."""

from __future__ import annotations

from pathlib import Path

from snncontrol.errors import ArtifactError

_HERE = Path(__file__).parent
SHIPPED_PREFIX = "shipped:"

#: name -> artifact directory of each shipped controller
SHIPPED: dict[str, Path] = {
    "blimp": _HERE / "blimp_pd_i",
    # the constructed seed whose settings configs/blimp_envelope_construction.yaml evolves (the pipeline); that run's
    # champion seeds configs/blimp_envelope_anti_windup.yaml, which evolved "blimp"
    "blimp_envelope_seed": _HERE / "blimp_envelope_seed",
    "swimmer_ncap": _HERE / "swimmer_ncap",
    # the same circuit evolved over the swimmer body envelope (configs/ncap_bodies.yaml, benchmarks/ncap_bodies.py)
    "swimmer_ncap_bodies": _HERE / "swimmer_ncap_bodies",
}


def resolve(name: str) -> Path:
    """The artifact directory `name` means: "shipped:NAME" (or a bare NAME that is no existing path) for
    `SHIPPED[NAME]`, else a path. An unknown shipped name is an ArtifactError naming the shipped ones."""
    if not name:
        raise ArtifactError("no artifact given: a controller artifact directory or shipped:NAME")
    key = name.removeprefix(SHIPPED_PREFIX)
    if name.startswith(SHIPPED_PREFIX) or (not Path(name).expanduser().exists() and key in SHIPPED):
        if key not in SHIPPED:
            raise ArtifactError(f"no shipped controller {key!r} (shipped: {', '.join(sorted(SHIPPED))})")
        return SHIPPED[key]
    return Path(name).expanduser()
