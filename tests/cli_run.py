"""What one run of the operator command left: its exit status and what it printed
(tests/cli and tests/faults run it in-process and as a process)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def doc(self) -> dict:
        return json.loads(self.out)

    @property
    def last_line(self) -> str:
        return self.out.splitlines()[-1]
