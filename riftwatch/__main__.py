"""`python -m riftwatch` runs the command line."""

import sys

from riftwatch.cli import main

sys.exit(main())
