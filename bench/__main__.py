"""`python -m bench [--runs N] [--manual auto|aws|boto3|both]`: the operator command against
Logz.io's manual three-command test, on one emulator bucket (see cli_vs_manual.py)."""

from .cli_vs_manual import main

raise SystemExit(main())
