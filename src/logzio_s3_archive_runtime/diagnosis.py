"""One diagnosis of a bucket for Logz.io, and the only place a verdict is worded.

The probe (probe.run_probe) returns a Diagnosis: the four permission checks, every bucket
finding, the findings that could not be checked, or, when no check was possible at all,
the abort (what happened, the fix, the AWS error code) as data. The Lambda's answer, the
operator command's text and JSON and the demo render it; none of them words a verdict of
its own, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from . import checks
from .checks import CheckResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_VERDICT = 2


class Severity(str, Enum):
    #: Logz.io's archive or restore fails: the deploy fails, the command exits 1.
    ERROR = "error"
    #: Works, but not as it should be: reported; fails only in strict mode.
    WARNING = "warning"


@dataclass(frozen=True)
class Finding:
    """A problem with the bucket or the principal beyond the four grants."""

    id: str
    severity: Severity
    message: str
    fix: str

    def as_dict(self) -> dict:
        return {"id": self.id, "severity": self.severity.value, "message": self.message, "fix": self.fix}

    def text(self) -> str:
        return f"{self.severity.value} {self.id}: {self.message}; fix: {self.fix}"


@dataclass(frozen=True)
class NotChecked:
    """A finding that could not be looked for (say, no permission to read that setting):
    never reported as passed."""

    id: str
    reason: str
    fix: str

    def as_dict(self) -> dict:
        return {"id": self.id, "reason": self.reason, "fix": self.fix}


@dataclass(frozen=True)
class Abort:
    """No verdict possible: what happened and what to do next."""

    what: str
    fix: str
    error_code: str | None = None

    def text(self) -> str:
        return f"{self.what} {self.fix}"

    def as_dict(self) -> dict:
        return {"what": self.what, "fix": self.fix, "error_code": self.error_code}


@dataclass(frozen=True)
class LeftBehind:
    """The probe object (this exact version) could not be removed."""

    key: str
    version_id: str | None
    error: str
    #: The delete marker the principal's own delete made on a versioned bucket, if any.
    marker_version_id: str | None = None


@dataclass(frozen=True)
class Diagnosis:
    #: None when the check stopped before a bucket was known (a stack's outputs unread).
    bucket: str | None
    #: The region the caller expects the bucket in (the stack's, --region).
    region: str | None = None
    checks: tuple[CheckResult, ...] = ()
    findings: tuple[Finding, ...] = ()
    not_checked: tuple[NotChecked, ...] = ()
    abort: Abort | None = None
    probe_key: str | None = None
    probe_version_id: str | None = None
    left_behind: LeftBehind | None = None
    #: Where GetBucketLocation says the bucket is (None when that was denied).
    bucket_region: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: Who removed the probe object (None: nobody, or it was never written).
    removed_by: str | None = None

    # ------------------------------------------------------------------ judgement

    @property
    def permissions_ok(self) -> bool:
        return self.abort is None and bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if not check.ok)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        """Usable by Logz.io: every permission granted and no error finding."""
        return self.exit_status() == EXIT_OK

    def passes(self, strict: bool = False) -> bool:
        return self.exit_status(strict) == EXIT_OK

    def exit_status(self, strict: bool = False) -> int:
        """0 usable; 1 a permission missing or an error finding (or, strict, a warning);
        2 no verdict."""
        if self.abort is not None or not self.checks:
            return EXIT_NO_VERDICT
        if not self.permissions_ok or self.errors or (strict and self.warnings):
            return EXIT_FAILED
        return EXIT_OK

    def check(self, action: str) -> CheckResult:
        return next(check for check in self.checks if check.action == action)

    def statuses(self) -> dict[str, str]:
        return {check.action: check.status.value for check in self.checks}

    def with_abort(self, abort: Abort) -> "Diagnosis":
        return replace(self, abort=abort)

    # ------------------------------------------------------------------ wording

    def verdict(self, strict: bool = False) -> str:
        """One paragraph: what works, what does not and how to fix it."""
        if self.abort is not None:
            what = f"bucket {self.bucket}" if self.bucket else "the bucket"
            return f"Could not check {what}: {_sentence(self.abort.text())}" + self._leftover_text()
        total = len(self.checks)
        counted = self.errors + (self.warnings if strict else ())
        if self.passes(strict):
            text = (f"OK: all {total} permissions Logz.io needs are granted on bucket {self.bucket} "
                    "(archive and restore will work)")
            if self.warnings:
                text += "; " + "; ".join(f.text() for f in self.warnings)
            return _sentence(text) + self._leftover_text() + self._notes_text()
        parts = []
        for check in self.failed:
            code = f" ({check.error_code})" if check.error_code else ""
            hint = f": {check.hint}" if check.hint else ""
            parts.append(f"{check.action} {check.status.value}{code}{hint}")
        parts.extend(f.text() for f in counted)
        granted = total - len(self.failed)
        uses = []
        broken = {c.action for c in self.failed}
        if checks.PUT_OBJECT in broken or any(f.id in ARCHIVE_BREAKERS for f in self.errors):
            uses.append("archive")
        if broken & {checks.LIST_BUCKET, checks.GET_OBJECT} or any(f.id in RESTORE_BREAKERS for f in self.errors):
            uses.append("restore")
        effect = f" ({' and '.join(uses)} will fail)" if uses else ""
        return (f"FAILED: Logz.io cannot use bucket {self.bucket}{effect}: {granted} of {total} "
                f"permissions granted; " + _sentence("; ".join(parts)) + self._leftover_text()
                + self._notes_text())

    def _leftover_text(self) -> str:
        if self.left_behind is None:
            return ""
        marker = " and its delete marker" if self.left_behind.marker_version_id else ""
        return (f" The probe object s3://{self.bucket}/{self.left_behind.key}{marker} could not be removed "
                f"({self.left_behind.error}); delete it by hand.")

    def _notes_text(self) -> str:
        return "".join(f" Note: {_sentence(note)}" for note in self.notes)

    def as_dict(self, strict: bool = False) -> dict:
        """The command's JSON contract (docs/json-output.md)."""
        return {
            "bucket": self.bucket, "region": self.region, "bucket_region": self.bucket_region,
            "ok": self.passes(strict), "exit_code": self.exit_status(strict), "strict": strict,
            "checks": [check.as_dict() for check in self.checks],
            "findings": [finding.as_dict() for finding in self.findings],
            "not_checked": [item.as_dict() for item in self.not_checked],
            "error": self.abort.as_dict() if self.abort else None,
            "probe_key": self.probe_key,
            "left_behind": self.left_behind.key if self.left_behind else None,
            "left_behind_version_id": self.left_behind.version_id if self.left_behind else None,
            "left_behind_marker_version_id": self.left_behind.marker_version_id if self.left_behind else None,
            "notes": list(self.notes),
            "summary": self.verdict(strict),
        }


#: Findings after which Logz.io cannot archive, or cannot restore.
ARCHIVE_BREAKERS = frozenset({"object-ownership-enforced", "requester-pays"})
RESTORE_BREAKERS = frozenset({"lifecycle-unrestorable", "intelligent-tiering-archive", "requester-pays"})


def _sentence(text: str) -> str:
    """`text` ending in exactly one full stop (a fix may end in "..." or "." already)."""
    return text if text.endswith(".") else text + "."
