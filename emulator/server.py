"""In-process moto server with the emulator extensions and IAM enforcement."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any, Sequence

from .extensions import STATE, apply_all

log = logging.getLogger("emulator")

DEFAULT_ACCOUNT = "123456789012"
ADMIN_USER = "emulator-admin"
ALLOW_ALL = json.dumps({"Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})

# Environment variables that could point a client at real AWS or change its behaviour.
_SCRUB_PREFIXES = ("AWS_", "CDK_DEFAULT_", "CDK_DEPLOY_")


class Emulator:
    """moto in server mode on ``http://localhost:<random port>`` with IAM enforcement.

    with Emulator() as emu:
        subprocess.run([...], env=emu.admin_env())
    """

    def __init__(self, region: str = "us-east-1", account: str = DEFAULT_ACCOUNT, port: int = 0,
                 enforce_iam: bool = True, log_dir: str | None = None, async_stacks: bool = True):
        self.region = region
        self.account = account
        self.port = port
        self.enforce_iam = enforce_iam
        self.log_dir = log_dir or tempfile.mkdtemp(prefix="emulator-logs-")
        self.async_stacks = async_stacks
        self.endpoint_url = ""
        self.admin_access_key_id = ""
        self.admin_secret_access_key = ""
        self._server: Any = None

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> "Emulator":
        if self._server is not None:
            return self
        os.environ.setdefault("MOTO_ACCOUNT_ID", self.account)
        if os.environ["MOTO_ACCOUNT_ID"] != self.account:
            raise RuntimeError("MOTO_ACCOUNT_ID is process-wide and already set to another account")
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        # Auth off while we set up the admin user.
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        apply_all()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        _, self.port = self._server.get_host_and_port()
        self.endpoint_url = f"http://localhost:{self.port}"
        STATE.endpoint_url = self.endpoint_url
        STATE.log_dir = self.log_dir
        STATE.async_stacks = self.async_stacks
        self._create_admin()
        if self.enforce_iam:
            settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
            ActionAuthenticatorMixin.request_count = 0
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            from moto import settings

            settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")

    def reset(self) -> None:
        """Drop all moto state (then re-create the admin user)."""
        from moto import settings
        from moto.moto_api._internal.models import moto_api_backend

        prev = settings.INITIAL_NO_AUTH_ACTION_COUNT
        settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
        moto_api_backend.reset()
        self._create_admin()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = prev

    def __enter__(self) -> "Emulator":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----------------------------------------------------------------- admin identity
    def _create_admin(self) -> None:
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        iam = iam_backends[self.account][get_partition(self.region)]
        if ADMIN_USER not in iam.users:
            iam.create_user(self.region, ADMIN_USER)
            iam.put_user_policy(ADMIN_USER, "allow-all", ALLOW_ALL)
            key = iam.create_access_key(ADMIN_USER)
            self.admin_access_key_id = key.access_key_id
            self.admin_secret_access_key = key.secret_access_key

    def admin_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for subprocesses (e.g. ``npx cdk``) that act as the admin user."""
        env = dict(os.environ if base is None else base)
        for k in list(env):
            if k.startswith(_SCRUB_PREFIXES):
                del env[k]
        env.update({
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.admin_access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.admin_secret_access_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "CDK_DEFAULT_ACCOUNT": self.account,
            "CDK_DEFAULT_REGION": self.region,
            "CDK_DISABLE_VERSION_CHECK": "1",
            "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
            "NO_PROXY": "localhost,127.0.0.1",
            "no_proxy": "localhost,127.0.0.1",
        })
        return env

    def client(self, service: str, **creds: str) -> Any:
        """boto3 client against the emulator (admin credentials unless given)."""
        import boto3

        return boto3.client(
            service, endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id=creds.get("aws_access_key_id", self.admin_access_key_id),
            aws_secret_access_key=creds.get("aws_secret_access_key", self.admin_secret_access_key),
            aws_session_token=creds.get("aws_session_token"),
        )


# --------------------------------------------------------------------------- CDK CLI helpers

def _run(cmd: Sequence[str], env: dict[str, str], cwd: str, timeout: float) -> tuple[int, str]:
    started = time.time()
    proc = subprocess.run(list(cmd), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    log.info("%s -> %s in %.1fs", " ".join(cmd[:4]), proc.returncode, time.time() - started)
    return proc.returncode, proc.stdout


def _cdk(cdk_cmd: str | Sequence[str]) -> list[str]:
    return cdk_cmd.split() if isinstance(cdk_cmd, str) else list(cdk_cmd)


def cdk_bootstrap(emu: Emulator, cdk_cmd: str | Sequence[str], timeout: float = 600,
                  extra_args: Sequence[str] = ()) -> tuple[int, str]:
    """``cdk bootstrap aws://<account>/<region>`` against the emulator.

    Run from an empty folder: with the environment named, the command line needs no app,
    and in the project folder it would synthesize it first (seconds, for nothing)."""
    cmd = _cdk(cdk_cmd) + ["bootstrap", f"aws://{emu.account}/{emu.region}", "--no-notices", *extra_args]
    with tempfile.TemporaryDirectory(prefix="cdk-bootstrap-") as empty:
        return _run(cmd, emu.admin_env(), empty, timeout)


def cdk_deploy(emu: Emulator, cdk_cmd: str | Sequence[str], app_dir: str, stacks: Sequence[str] = ("--all",),
               context: dict[str, str] | None = None, extra_args: Sequence[str] = (),
               timeout: float = 900, method: str | None = "direct") -> tuple[int, str]:
    """``cdk deploy --require-approval never`` against the emulator; ``method=None`` is the
    command line's default (a change set), as a user's plain ``cdk deploy``."""
    cmd = _cdk(cdk_cmd) + ["deploy", *stacks, "--require-approval", "never", "--no-notices",
                           "--progress", "events"]
    if method:
        cmd.append(f"--method={method}")
    for k, v in (context or {}).items():
        cmd += ["--context", f"{k}={v}"]
    cmd += list(extra_args)
    return _run(cmd, emu.admin_env(), app_dir, timeout)


def find_cdk_cli(search: Sequence[str] = ()) -> list[str] | None:
    """Locate a ``cdk`` executable (node_modules/.bin in the given folders, then PATH)."""
    for folder in search:
        cand = os.path.join(folder, "node_modules", ".bin", "cdk")
        if os.path.exists(cand):
            return [cand]
    found = shutil.which("cdk")
    return [found] if found else None
