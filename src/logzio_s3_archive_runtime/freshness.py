"""How old is the newest archive? Found in a few LIST requests, whatever the bucket's size.

Logz.io writes archives under date-shaped key paths, so the lexicographically greatest
"folder" at each level is also the newest. The walk lists one level at a time (a
ListObjectsV2 with Delimiter "/"), keeps the newest object seen at that level, and goes
down into the greatest sub-folder: one request per level of the key path (a handful), not
one per thousand objects. A level with more than 1000 entries is read from its first page
only, and a bucket whose keys are not time-ordered may report an older archive than it
holds: both are said in the README. The probe's own objects and Logz.io's logzio-verified
marker are not archives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from . import checks

#: Logz.io's connection-test object at the bucket root; it says nothing about archiving.
VERIFIED_MARKER = "logzio-verified"
#: More levels than any date path has: the walk never loops.
MAX_LEVELS = 12


class Lister(Protocol):
    def list_level(self, prefix: str) -> tuple[list[str], list[tuple[str, Any]]]: ...


@dataclass(frozen=True)
class NewestArchive:
    key: str
    last_modified: datetime
    #: LIST requests it took.
    requests: int

    def age_hours(self, now: datetime | None = None) -> float:
        now = now or datetime.now(timezone.utc)
        return max((now - self.last_modified).total_seconds() / 3600.0, 0.0)


def _is_archive(key: str) -> bool:
    return not key.startswith(checks.PROBE_PREFIX) and key != VERIFIED_MARKER and not key.endswith("/")


def newest_archive(lister: Lister, deadline: float = float("inf")) -> NewestArchive | None:
    """The newest object Logz.io wrote, or None when there is none (a new archive). No level
    is listed after `deadline` (time.monotonic): what was seen by then is the answer."""
    newest: tuple[str, datetime] | None = None
    prefix, requests = "", 0
    for _ in range(MAX_LEVELS):
        if time.monotonic() >= deadline:
            break
        folders, objects = lister.list_level(prefix)
        requests += 1
        for key, modified in objects:
            if _is_archive(key) and (newest is None or modified > newest[1]):
                newest = (key, modified)
        folders = [folder for folder in folders if folder != checks.PROBE_PREFIX]
        if not folders:
            break
        prefix = max(folders)
    return NewestArchive(newest[0], newest[1], requests) if newest else None
