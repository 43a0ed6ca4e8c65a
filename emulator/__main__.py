"""``python -m emulator demo``: the main job (see demo.py).
``python -m emulator serve [--region R] [--port P]``: run until Ctrl-C, print the admin env."""

import argparse
import sys
import logging
import shlex
import time

from .server import Emulator


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m emulator")
    sub = parser.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve")
    serve.add_argument("--region", default="us-east-1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--no-auth", action="store_true", help="do not enforce IAM")
    sub.add_parser("demo", add_help=False)
    if len(sys.argv) > 1 and sys.argv[1] == "demo":  # the demo parses its own options
        from .demo import main as demo

        sys.exit(demo(sys.argv[2:]))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    from .extensions import STATE

    STATE.lambda_log_echo = True
    with Emulator(region=args.region, port=args.port, enforce_iam=not args.no_auth) as emu:
        print(f"endpoint: {emu.endpoint_url}   logs: {emu.log_dir}", flush=True)
        env = emu.admin_env(base={})
        for k in sorted(env):
            print(f"export {k}={shlex.quote(env[k])}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
