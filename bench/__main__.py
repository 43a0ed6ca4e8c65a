"""`python -m bench` (`make bench`): every figure of the project in one run; see suite.py.
`python -m bench --quick` leaves out the slow parts (synth, demo)."""

from .suite import main

raise SystemExit(main())
