"""Run the MusicGen Workbench in the browser: ``python app.py [OPTIONS]`` is ``workbench serve [OPTIONS]`` (the same
options; ``python app.py --help`` lists them)."""

import sys

from workbench.cli.app import main

if __name__ == "__main__":
    main(["serve", *sys.argv[1:]])
