"""Storage and the reference-data API: ordinary application code that penstock does not touch."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS parts (
    part_number TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ebom (
    part_number TEXT PRIMARY KEY,
    revision INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS changelog_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    part_number TEXT NOT NULL,
    change TEXT NOT NULL
);
"""


class PartNotFound(LookupError):
    """The reference API has no such part."""


class ReferenceApi:
    """Stands in for the PLM system's HTTP API: a fixed catalogue."""

    def __init__(self, catalogue: dict[str, dict[str, Any]] | None = None) -> None:
        self.catalogue = catalogue or {
            "PN-100": {"description": "Hex bolt M8", "revision": 3},
            "PN-200": {"description": "Washer 8 mm", "revision": 1},
            "PN-300": {"description": "Bracket, steel", "revision": 7},
        }

    def fetch(self, part_number: str) -> dict[str, Any]:
        try:
            data = self.catalogue[part_number]
        except KeyError:
            raise PartNotFound(part_number) from None
        return {"part_number": part_number, **data}


@dataclass
class Store:
    """A SQLite database (in memory by default), safe to share between threads."""

    path: str = ":memory:"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.executescript(_SCHEMA)

    def upsert_part(self, part: dict[str, Any]) -> bool:
        """Write a part; return True when it changed."""
        with self._lock, self.db:
            row = self.db.execute(
                "SELECT description, revision FROM parts WHERE part_number = ?",
                (part["part_number"],),
            ).fetchone()
            if row == (part["description"], part["revision"]):
                return False
            self.db.execute(
                "INSERT INTO parts VALUES (:part_number, :description, :revision) "
                "ON CONFLICT(part_number) DO UPDATE SET "
                "description = excluded.description, revision = excluded.revision",
                part,
            )
            return True

    def set_ebom_revision(self, part_number: str, revision: int) -> None:
        with self._lock, self.db:
            self.db.execute(
                "INSERT INTO ebom VALUES (?, ?) "
                "ON CONFLICT(part_number) DO UPDATE SET revision = excluded.revision",
                (part_number, revision),
            )

    def enqueue_change(self, part_number: str, change: str) -> int:
        with self._lock, self.db:
            cur = self.db.execute(
                "INSERT INTO changelog_queue (part_number, change) VALUES (?, ?)",
                (part_number, change),
            )
            return int(cur.lastrowid or 0)

    def pending_changes(self) -> list[tuple[str, str]]:
        with self._lock:
            return self.db.execute(
                "SELECT part_number, change FROM changelog_queue ORDER BY id"
            ).fetchall()


#: The service's default dependencies; tests swap them for fresh ones.
STORE = Store()
API = ReferenceApi()
