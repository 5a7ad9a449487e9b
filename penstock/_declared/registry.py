"""The process-wide registry of decorated functions.

It stores specs and answers "which steps are in flow X". It knows nothing of graphs, backends
or docs. Re-importing a module replaces its entries instead of adding new ones: entries are
keyed by ``(module, qualname)``, and when a module object is replaced in ``sys.modules`` (a
docs server dropping and re-importing user code) everything the old object registered is
forgotten on the first registration from the new one.
"""

from __future__ import annotations

import sys

# _thread, not threading: the standard library documents it ("low-level threading API"),
# and threading would cost `import penstock` about a millisecond (tests/test_import_light.py).
from _thread import RLock
from weakref import ref as weakref

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

    from penstock._declared.spec import StepSpec

Key = tuple[str, str]


class Registry:
    """Specs by key, with an index by flow and a version that changes on every write."""

    def __init__(self) -> None:
        self._lock = RLock()
        self._steps: dict[Key, StepSpec] = {}
        self._by_flow: dict[str, dict[Key, None]] = {}
        self._by_module: dict[str, dict[Key, None]] = {}
        self._module_refs: dict[str, weakref[ModuleType] | None] = {}
        self.version = 0

    def register(self, spec: StepSpec) -> None:
        """Add or replace the entry for ``spec.key``."""
        with self._lock:
            self._note_module(spec.module)
            old = self._steps.get(spec.key)
            if old is not None:
                self._unindex(old)
            self._steps[spec.key] = spec
            for m in spec.flows:
                self._by_flow.setdefault(m.flow, {})[spec.key] = None
            self._by_module.setdefault(spec.module, {})[spec.key] = None
            self.version += 1

    def forget_module(self, module: str) -> int:
        """Drop every entry registered from ``module``; return how many were dropped."""
        with self._lock:
            keys = list(self._by_module.pop(module, {}))
            for key in keys:
                self._unindex(self._steps.pop(key))
            self._module_refs.pop(module, None)
            if keys:
                self.version += 1
            return len(keys)

    def clear(self) -> None:
        """Forget everything (for tests)."""
        with self._lock:
            self._steps.clear()
            self._by_flow.clear()
            self._by_module.clear()
            self._module_refs.clear()
            self.version += 1

    def snapshot(self) -> tuple[dict[Key, StepSpec], dict[str, weakref[ModuleType] | None]]:
        """A copy of the current entries, for `restore` (test isolation)."""
        with self._lock:
            return (dict(self._steps), dict(self._module_refs))

    def restore(
        self, snapshot: tuple[dict[Key, StepSpec], dict[str, weakref[ModuleType] | None]]
    ) -> None:
        """Put back the entries saved by `snapshot`."""
        steps, refs = snapshot
        with self._lock:
            self.clear()
            for spec in steps.values():
                self._steps[spec.key] = spec
                for m in spec.flows:
                    self._by_flow.setdefault(m.flow, {})[spec.key] = None
                self._by_module.setdefault(spec.module, {})[spec.key] = None
            self._module_refs.update(refs)
            self.version += 1

    def get(self, key: Key) -> StepSpec | None:
        return self._steps.get(key)

    def all(self) -> list[StepSpec]:
        with self._lock:
            return list(self._steps.values())

    def in_flow(self, flow: str) -> list[StepSpec]:
        with self._lock:
            return [self._steps[k] for k in self._by_flow.get(flow, ())]

    def flow_names(self) -> list[str]:
        with self._lock:
            return sorted(f for f, keys in self._by_flow.items() if keys)

    def modules(self) -> list[str]:
        with self._lock:
            return sorted(m for m, keys in self._by_module.items() if keys)

    def __len__(self) -> int:
        return len(self._steps)

    def __iter__(self) -> Iterator[StepSpec]:
        return iter(self.all())

    def _unindex(self, spec: StepSpec) -> None:
        for m in spec.flows:
            keys = self._by_flow.get(m.flow)
            if keys is not None:
                keys.pop(spec.key, None)
                if not keys:
                    del self._by_flow[m.flow]
        mod_keys = self._by_module.get(spec.module)
        if mod_keys is not None:
            mod_keys.pop(spec.key, None)

    def _note_module(self, name: str) -> None:
        """Forget a module's old entries when its module object has been replaced."""
        current = sys.modules.get(name)
        if name not in self._module_refs:
            self._module_refs[name] = weakref(current) if current is not None else None
            return
        ref = self._module_refs[name]
        previous = ref() if ref is not None else None
        if current is not None and previous is not current:
            self.forget_module(name)
            self._module_refs[name] = weakref(current)


#: The registry every decorator writes to.
REGISTRY = Registry()
