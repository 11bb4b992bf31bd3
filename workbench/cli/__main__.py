"""``python -m workbench.cli``: the command line (as ``python -m workbench``)."""

import sys

from workbench.cli.app import main

sys.exit(main())
