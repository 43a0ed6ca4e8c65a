"""Run Python Lambda functions locally instead of in Docker.

moto lacks: moto executes Lambda code only inside a Docker container (and without
Docker every invoke, including the one CloudFormation makes for a custom resource,
just fails with "error running docker").

This extension: replaces ``LambdaFunction._invoke_lambda`` for ``python*`` runtimes.
The function's zip (moto keeps its bytes) is unpacked once per code digest, and
each invocation runs the handler in a FRESH subprocess of the emulator's own
interpreter (``sys.executable``, which has boto3), with:
  * the function's Environment variables and handler string,
  * AWS_ENDPOINT_URL = the emulator, AWS_REGION/AWS_DEFAULT_REGION,
  * temporary credentials from moto STS AssumeRole of the function's execution role
    (so IAM enforcement applies the role's own policies),
  * a context object whose get_remaining_time_in_millis() follows the Timeout;
    the process is killed at the Timeout ("Task timed out after N seconds").
stdout/stderr go to ``<log_dir>/lambda-<function>.log`` and to moto's CloudWatch
Logs group ``/aws/lambda/<function>``.  Non-Python runtimes fall back to moto.
Note: the interpreter version is the emulator's, not the runtime's (e.g. python3.14).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from typing import Any

from . import STATE

log = logging.getLogger("emulator.lambda")
_BOOTSTRAP = os.path.join(os.path.dirname(__file__), "_lambda_bootstrap.py")
_unpack_lock = threading.Lock()
_original_invoke = None

# Environment variables that are copied from the emulator process (no AWS_* ones).
_PASS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def _task_dir(fn: Any) -> str:
    code = getattr(fn, "code_bytes", b"") or b""
    digest = hashlib.sha256(code).hexdigest()[:16]
    base = os.path.join(STATE.log_dir or tempfile.gettempdir(), "lambda-code")
    path = os.path.join(base, f"{fn.function_name}-{digest}")
    with _unpack_lock:
        if not os.path.isdir(path):
            tmp = path + ".tmp"
            os.makedirs(tmp, exist_ok=True)
            with zipfile.ZipFile(io.BytesIO(code)) as zf:
                zf.extractall(tmp)
            os.replace(tmp, path)
    return path


def _role_credentials(fn: Any) -> dict[str, str]:
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    sts = sts_backends[fn.account_id][get_partition(fn.region)]
    role = sts.assume_role(
        region_name=fn.region,
        role_session_name=fn.function_name[:64],
        role_arn=fn.role,
        policy=None,
        duration=3600,
        external_id=None,
    )
    return {
        "AWS_ACCESS_KEY_ID": role.access_key_id,
        "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
        "AWS_SESSION_TOKEN": role.session_token,
    }


def run_python_function(fn: Any, event: Any) -> tuple[str, bool, str]:
    request_id = str(uuid.uuid4())
    timeout = float(fn.timeout or 3)
    date = time.strftime("%Y/%m/%d", time.gmtime())
    stream = f"{date}/[{fn.version}]{request_id.replace('-', '')}"
    env = {k: os.environ[k] for k in _PASS_ENV if k in os.environ}
    env.update({str(k): str(v) for k, v in (fn.environment_vars or {}).items()})
    env.update({
        "AWS_ENDPOINT_URL": STATE.endpoint_url,
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "NO_PROXY": "localhost,127.0.0.1",
        "no_proxy": "localhost,127.0.0.1",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(fn.version),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(timeout)),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.run_time}",
        "_HANDLER": fn.handler,
        "_EMU_FUNCTION_ARN": fn.function_arn,
        "_EMU_REQUEST_ID": request_id,
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    env.update(_role_credentials(fn))
    task_dir = _task_dir(fn)
    env["LAMBDA_TASK_ROOT"] = task_dir
    fd, result_path = tempfile.mkstemp(prefix="lambda-result-", suffix=".json")
    os.close(fd)
    if not isinstance(event, str):
        event = json.dumps(event)
    started = time.time()
    env["_EMU_DEADLINE_EPOCH"] = str(started + timeout)
    proc = subprocess.Popen(
        [sys.executable, _BOOTSTRAP, task_dir, fn.handler, result_path],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=env, cwd=task_dir, text=True,
    )
    lines: list[str] = []

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if STATE.lambda_log_echo:
                log.info("[%s] %s", fn.function_name, line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    assert proc.stdin is not None
    proc.stdin.write(event)
    proc.stdin.close()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    reader.join(timeout=5)
    duration_ms = (time.time() - started) * 1000
    if timed_out:
        lines.append(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {request_id} Task timed out after {timeout:.2f} seconds")
        payload = json.dumps({"errorMessage": f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {request_id} Task timed out after {timeout:.2f} seconds"})
        errored = True
    else:
        with open(result_path) as f:
            payload = f.read() or "null"
        errored = proc.returncode != 0
    os.unlink(result_path)
    lines.append(f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms")
    output = "\n".join(lines)
    try:
        fn.logs_backend.ensure_log_group(fn.logs_group_name)
        fn.logs_backend.create_log_stream(fn.logs_group_name, stream)
        fn.logs_backend.put_log_events(
            fn.logs_group_name, stream,
            [{"timestamp": int(time.time() * 1000), "message": line or " "} for line in lines],
        )
    except Exception:  # logging must never break an invocation
        log.exception("could not write CloudWatch logs for %s", fn.function_name)
    if STATE.log_dir:
        with open(os.path.join(STATE.log_dir, f"lambda-{fn.function_name}.log"), "a") as f:
            f.write(output + "\n")
    return payload, errored, output


def _invoke_lambda(self: Any, event: Any = None) -> tuple[str, bool, str]:
    if str(self.run_time or "").startswith("python") and getattr(self, "package_type", "Zip") == "Zip":
        return run_python_function(self, event if event is not None else {})
    return _original_invoke(self, event)  # type: ignore[misc]


def apply() -> None:
    global _original_invoke
    from moto.awslambda.models import LambdaFunction

    _original_invoke = LambdaFunction._invoke_lambda
    LambdaFunction._invoke_lambda = _invoke_lambda
