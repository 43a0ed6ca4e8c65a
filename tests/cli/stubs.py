"""The command against stubbed S3: `logzio_s3_archive_runtime.aws.s3_client` hands out Stubber-backed
clients (tests/unit/s3stub.py), one per principal, so every bucket setting S3 can answer
is reachable without an emulator that models it. With --stack, the stack's outputs and
secret are replaced too (they are read through aws.stack_outputs and aws.read_access_key).
"""

from __future__ import annotations

import io

from logzio_s3_archive_runtime import aws, probe
from logzio_s3_archive_runtime.cli import main
from logzio_s3_archive_runtime.names import Output
from tests.cli_run import Run
from tests.unit.s3stub import ACCOUNT, BUCKET, KEY, Script, stubbed

#: The principal Logz.io uses, as --profile (with --bucket) or as the stack's key.
LOGZIO = "logzio"
LOGZIO_KEY = aws.AccessKey("AKIALOGZIOSTUBBED000", "stubbed-secret")
#: The operator's credentials: --cleanup-profile with --bucket, --profile with --stack.
ADMIN = "admin"
STACK = "LogzioStubbed"
SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:LogzioStubbed-AbCdEf"


class StubbedAws:
    """The S3 clients the command makes, by who they act as: the Logz.io principal and the
    operator's admin. Each client's expected calls are queued on its Script."""

    def __init__(self, monkeypatch):
        self.clients: dict[str, object] = {}
        self.stubs = []
        self.scripts: dict[str, Script] = {}
        for name in (LOGZIO, ADMIN):
            access, stub = stubbed()
            self.clients[name], self.scripts[name] = access.client, Script(stub)
            self.stubs.append(stub)
        monkeypatch.setattr(aws, "s3_client", self._s3_client)
        monkeypatch.setattr(probe, "new_probe_key", lambda: KEY)
        # Scripted calls are answered in order: the probe makes them one after another.
        monkeypatch.setattr(probe, "CONCURRENT", False)
        self.outputs = {Output.BUCKET_NAME: BUCKET, Output.REGION: "us-east-1", Output.USER_NAME: LOGZIO,
                        Output.ACCESS_KEY_ID: LOGZIO_KEY.access_key_id, Output.SECRET_ARN: SECRET_ARN}
        monkeypatch.setattr(aws, "stack_outputs", lambda *args, **kwargs: dict(self.outputs))
        monkeypatch.setattr(aws, "secretsmanager_client", lambda *args, **kwargs: None)
        monkeypatch.setattr(aws, "read_access_key", self._read_access_key)
        monkeypatch.setattr(aws, "caller_account", self._caller_account)
        self.secret_error: Exception | None = None
        #: Whose account was looked up: the key's id or the profile.
        self.accounts_asked: list[str] = []

    @property
    def logzio(self) -> Script:
        return self.scripts[LOGZIO]

    @property
    def admin(self) -> Script:
        return self.scripts[ADMIN]

    def _s3_client(self, region, key=None, profile=None, endpoint_url=None):
        if key is not None:
            assert key == LOGZIO_KEY, key
            return self.clients[LOGZIO]
        assert profile in self.clients, f"a client for profile {profile!r} was not expected"
        return self.clients[profile]

    def _caller_account(self, region=None, key=None, profile=None, endpoint_url=None):
        """STS GetCallerIdentity of the checked principal: the key with --stack, the profile with --bucket."""
        assert (key == LOGZIO_KEY) if key is not None else profile == LOGZIO, (key, profile)
        self.accounts_asked.append(key.access_key_id if key is not None else profile)
        return ACCOUNT

    def _read_access_key(self, secret_arn, client=None):
        assert secret_arn == SECRET_ARN
        if self.secret_error is not None:
            raise self.secret_error
        return LOGZIO_KEY

    def run(self, *args: str, mode: str = "bucket") -> Run:
        """The command in-process: with --bucket as profile logzio (--cleanup-profile admin),
        or with --stack as your profile admin."""
        target = (["--bucket", BUCKET, "--profile", LOGZIO, "--cleanup-profile", ADMIN] if mode == "bucket"
                  else ["--stack", STACK, "--profile", ADMIN])
        out, err = io.StringIO(), io.StringIO()
        code = main(["check", *target, "--settle-seconds", "0", "--key-deadline-seconds", "0", *args],
                    out=out, err=err)
        return Run(code, out.getvalue(), err.getvalue())

    def verify(self) -> None:
        for stub in self.stubs:
            stub.assert_no_pending_responses()

    # ------------------------------------------------------------------ the usual scripts

    def granted(self, mode: str = "bucket", settings: dict | None = None) -> "StubbedAws":
        """A least-privilege principal with all four permissions; the admin removes the probe
        object and reads the bucket's `settings` (s3stub.Script.bucket_settings arguments).
        With --bucket the principal is asked for the settings first, and may not read them."""
        self.logzio.put().list().get().locate().extras()
        if mode == "bucket":
            self.logzio.bucket_settings(denied=("ownership", "lifecycle", "tiering", "payer", "lock"))
        self.logzio.self_delete()
        self.admin.bucket_settings(**(settings or {})).delete(version="v1")
        return self
