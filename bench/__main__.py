"""`python -m bench`: the same as `bench/run`."""

import sys

from bench.suite import main

sys.exit(main())
