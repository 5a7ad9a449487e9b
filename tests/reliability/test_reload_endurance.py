"""Endurance of the registry under the docs-server pattern: 100 fresh re-imports."""

from __future__ import annotations

import gc
import sys
import tracemalloc
from pathlib import Path

import penstock
from penstock import docs
from penstock._declared.registry import REGISTRY

SOURCE = '''
from penstock import entrypoint, flow, step

@flow("endure")
@entrypoint
def receive():
    """Take a message ({n})."""

{steps}
'''


def _steps(n: int) -> str:
    return "\n".join(
        f'@flow("endure")\n@step(after="receive")\n'
        f'def step_{i}():\n    """Step {i}, build {n}."""\n'
        for i in range(20)
    )


def test_hundred_fresh_reimports_keep_registry_and_memory_flat(tmp_path: Path) -> None:
    """After warm-up, 100 edit+re-import cycles neither grow the registry nor leak memory."""
    pkg = tmp_path / "endurepkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    mod = pkg / "flows.py"
    try:
        sizes: list[int] = []
        tracemalloc.start()
        samples: list[int] = []
        for n in range(110):
            mod.write_text(SOURCE.format(n=n, steps=_steps(n)))
            docs.load_modules(["endurepkg.flows"], [tmp_path], fresh=True)
            text = docs.flow_diagram("endure").mermaid
            assert "step_19" in text
            assert penstock.get_flow("endure").step("receive").doc == f"Take a message ({n})."
            sizes.append(len(REGISTRY))
            # Memory is compared after the warm-up and at the end (a full collection is what
            # costs here, so not after every one of the 100 re-imports in between).
            if n in (10, 109):
                gc.collect()
                samples.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        assert len(set(sizes)) == 1, "registry grew across re-imports"
        growth = samples[-1] - samples[0]
        # A leak of one module per rebuild would be ~100 x (21 functions + module) >> 1 MiB.
        assert growth < 256 * 1024, f"memory grew by {growth} bytes over 100 re-imports"
    finally:
        for name in [m for m in sys.modules if m.startswith("endurepkg")]:
            del sys.modules[name]
        sys.path.remove(str(tmp_path))
