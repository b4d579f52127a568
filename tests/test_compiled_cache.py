"""numba's on-disk cache watches only the file a kernel is defined in (compiled.py); the kernels bake in the neuron
equations, kind codes, the layer table's columns and the tick's layout from other files. An edited equation was
still run by the compiled path from the cache while the reference path ran the new one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import snncontrol

#: run in a fresh interpreter on a copy of the package: whether the import flushed, the cached signatures of a small
#: kernel then, and after compiling it (its own cache entry, as every kernel has)
PROBE = """
import json
from snncontrol import compiled
kernel = compiled._float_blocks
before = len(kernel._cache._cache_file._load_index())
kernel(3, 2, 1)
print(json.dumps([compiled.FLUSHED_AT_IMPORT, before, len(kernel._cache._cache_file._load_index())]))
"""


def _probe(root: Path) -> list:
    env = {"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=root, env=env, capture_output=True, text=True, check=True,
                          timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_cache_is_flushed_when_a_baked_in_file_changes_and_only_then(tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(Path(snncontrol.__file__).parent, root / "snncontrol",
                    ignore=shutil.ignore_patterns("__pycache__", "controllers", "vpr"))
    assert _probe(root) == [True, 0, 1]  # no digest recorded yet; the kernel compiled and cached
    assert _probe(root) == [False, 1, 1]  # nothing changed: loaded from the cache
    equations = root / "snncontrol" / "neurons" / "equations.py"
    equations.write_text(equations.read_text() + "\n# an edit\n")
    assert _probe(root) == [True, 0, 1]  # the cached kernels dropped, compiled anew
    assert _probe(root) == [False, 1, 1]
    layer_table = root / "snncontrol" / "layer_table.py"
    layer_table.write_text(layer_table.read_text() + "\n")
    assert _probe(root)[:2] == [True, 0]


def test_the_package_imports_with_numbas_jit_disabled() -> None:
    """A debugging and coverage switch: the kernels are plain functions then, without a cache to flush (the import
    raised AttributeError)."""
    done = subprocess.run([sys.executable, "-c", "from snncontrol import compiled; print(compiled.FLUSHED_AT_IMPORT)"],
                          env={"PATH": "/usr/bin:/bin", "NUMBA_DISABLE_JIT": "1"}, capture_output=True, text=True,
                          timeout=120, cwd=Path(snncontrol.__file__).parent.parent)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr
