"""Controllers shipped with snncontrol, as artifacts in this package (see `snncontrol.artifacts`)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent

#: name -> artifact directory of each shipped controller
SHIPPED: dict[str, Path] = {
    "blimp": _HERE / "blimp_demo",
    "swimmer_ncap": _HERE / "swimmer_ncap",
}
