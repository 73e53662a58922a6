"""`python -m riftwatch` runs the command line."""

import sys

from riftwatch.cli.main import main

sys.exit(main())
