"""``python -m workbench``: the command line."""

import sys

from workbench.cli.app import main

sys.exit(main())
