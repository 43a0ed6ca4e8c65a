"""`logzio-archive check ...`: the operator command (see cli.py)."""

from .cli import main

raise SystemExit(main())
