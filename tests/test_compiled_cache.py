"""numba's on-disk cache watches only the file a kernel is defined in (compiled.py); the kernels bake in the neuron
equations, kind codes, the layer table's columns and the tick's layout from other files. An edited equation was
still run by the compiled path from the cache while the reference path ran the new one."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import snncontrol


def _import_flushed(root: Path) -> bool:
    """Whether importing snncontrol.compiled from the copy at `root` flushed the cache (a fresh interpreter)."""
    out = subprocess.run([sys.executable, "-c", "from snncontrol import compiled; print(compiled.FLUSHED_AT_IMPORT)"],
                         cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    return out == ["True"]


def test_the_cache_is_flushed_when_a_baked_in_file_changes_and_only_then(tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(Path(snncontrol.__file__).parent, root / "snncontrol",
                    ignore=shutil.ignore_patterns("__pycache__", "controllers", "vpr"))
    assert _import_flushed(root)  # no digest recorded yet
    assert not _import_flushed(root)  # nothing changed
    equations = root / "snncontrol" / "neurons" / "equations.py"
    equations.write_text(equations.read_text() + "\n# an edit\n")
    assert _import_flushed(root)
    assert not _import_flushed(root)
    (root / "snncontrol" / "layer_table.py").write_text((root / "snncontrol" / "layer_table.py").read_text() + "\n")
    assert _import_flushed(root)
