"""Bucket settings and what the probe must find in them: one table, used by the probe's,
the handler's and the command's tests, so both front ends are judged on the same cases.

Each case: the settings as S3 answers them (keyword arguments of s3stub.Script's
bucket_settings) and the findings expected, as (id, severity) pairs, in report order.
"""

from __future__ import annotations

GLACIER_ALL = {"ID": "to-glacier", "Status": "Enabled", "Filter": {},
               "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}
DEEP_ARCHIVE_PREFIX = {"ID": "old-exports", "Status": "Enabled", "Filter": {"Prefix": "exports/"},
                       "Transitions": [{"Days": 90, "StorageClass": "DEEP_ARCHIVE"}]}
GLACIER_BY_SIZE = {"ID": "big-to-glacier", "Status": "Enabled",
                   "Filter": {"ObjectSizeGreaterThan": 1024},
                   "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}
GLACIER_DISABLED = {**GLACIER_ALL, "ID": "paused", "Status": "Disabled"}
RESTORABLE = {"ID": "to-ia", "Status": "Enabled", "Filter": {"Prefix": ""},
              "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                              {"Days": 90, "StorageClass": "GLACIER_IR"}],
              "Expiration": {"Days": 365}}
TIERING_ARCHIVE = {"Id": "cheap", "Status": "Enabled",
                   "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}]}
TIERING_DEEP_PREFIX = {"Id": "cold-exports", "Status": "Enabled", "Filter": {"Prefix": "exports/"},
                       "Tierings": [{"Days": 180, "AccessTier": "DEEP_ARCHIVE_ACCESS"}]}

CASES = {
    # compliant
    "defaults": ({}, []),
    "no-ownership-controls": ({"ownership": None}, []),
    "restorable-lifecycle": ({"rules": [RESTORABLE]}, []),
    "disabled-glacier-rule": ({"rules": [GLACIER_DISABLED]}, []),
    # non-compliant
    "ownership-enforced": ({"ownership": "BucketOwnerEnforced"}, [("object-ownership-enforced", "error")]),
    "glacier-whole-bucket": ({"rules": [GLACIER_ALL]}, [("lifecycle-unrestorable", "error")]),
    "glacier-by-size-is-whole-bucket": ({"rules": [GLACIER_BY_SIZE]}, [("lifecycle-unrestorable", "error")]),
    "deep-archive-under-prefix": ({"rules": [DEEP_ARCHIVE_PREFIX]}, [("lifecycle-unrestorable", "warning")]),
    "tiering-archive": ({"tierings": [TIERING_ARCHIVE]}, [("intelligent-tiering-archive", "error")]),
    "tiering-deep-under-prefix": ({"tierings": [TIERING_DEEP_PREFIX]},
                                  [("intelligent-tiering-archive", "warning")]),
    # Requester Pays needs no header from the owner's account, which the principal is in.
    "requester-pays": ({"payer": "Requester"}, []),
    "object-lock-retention": ({"lock": {"Mode": "GOVERNANCE", "Days": 1}}, [("object-lock-retention", "warning")]),
}

#: Notes the findings add for a case (the start of each), in order; other cases add none.
NOTES = {
    "requester-pays": ["requester-pays: bucket {bucket} is Requester Pays, but the principal Logz.io uses "
                       "belongs to the bucket owner's account ("],
}


def finding_notes(notes) -> list[str]:
    """The notes a finding added ("<finding id>: ..."), of a diagnosis's notes."""
    return [note for note in notes if note.startswith("requester-pays: ")]


def notes_match(case: str, notes, bucket: str) -> bool:
    """Whether the findings' notes among `notes` are those of `case`, each starting as NOTES says."""
    expected = [start.format(bucket=bucket) for start in NOTES.get(case, [])]
    found = finding_notes(notes)
    return len(found) == len(expected) and all(note.startswith(start) for note, start in zip(found, expected))


#: Cases whose probe object stays behind whatever the cleanup may do (S3 refuses the delete).
LEAVES_PROBE_OBJECT = frozenset({"object-lock-retention"})

#: Settings the checking credentials may not read: reported as not checked, never passed.
UNREADABLE = ({"denied": ("ownership", "lifecycle", "tiering", "payer", "lock")},
              ["object-ownership-enforced", "lifecycle-unrestorable", "intelligent-tiering-archive",
               "requester-pays", "object-lock-retention"])
#: What a least-privilege principal answers for each read: every one denied.
ALL_DENIED = UNREADABLE[0]["denied"]
