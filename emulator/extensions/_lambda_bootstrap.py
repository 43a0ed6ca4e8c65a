"""Runs inside the fresh subprocess started by local_lambda (not imported by the emulator).

argv: task_dir handler result_path ; the event JSON arrives on stdin.
"""

import importlib
import json
import logging
import os
import sys
import time
import traceback


class _Context:
    def __init__(self) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = os.environ.get("_EMU_FUNCTION_ARN", "")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = os.environ.get("_EMU_REQUEST_ID", "")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = float(os.environ["_EMU_DEADLINE_EPOCH"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


class _RequestIdFilter(logging.Filter):
    def __init__(self, request_id: str) -> None:
        super().__init__()
        self.request_id = request_id

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


def main() -> int:
    task_dir, handler, result_path = sys.argv[1:4]
    sys.path.insert(0, task_dir)
    os.chdir(task_dir)
    ctx = _Context()
    # Like the Lambda Python runtime: a handler on the root logger, level WARNING.
    h = logging.StreamHandler(sys.stdout)
    h.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s", "%Y-%m-%dT%H:%M:%S"))
    h.addFilter(_RequestIdFilter(ctx.aws_request_id))
    logging.getLogger().addHandler(h)
    logging.getLogger().setLevel(logging.WARNING)
    event = json.loads(sys.stdin.read() or "{}")
    print(f"START RequestId: {ctx.aws_request_id} Version: {ctx.function_version}", flush=True)
    try:
        module_name, func_name = handler.rsplit(".", 1)
        func = getattr(importlib.import_module(module_name), func_name)
        result = func(event, ctx)
        payload, code = json.dumps(result), 0
    except Exception as exc:  # the runtime reports the error as the invocation result
        tb = traceback.format_exc()
        print(tb, file=sys.stderr, flush=True)
        payload = json.dumps({
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        })
        code = 1
    with open(result_path, "w") as f:
        f.write(payload)
    sys.stdout.flush()
    print(f"END RequestId: {ctx.aws_request_id}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
