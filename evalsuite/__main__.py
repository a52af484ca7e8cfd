"""`python -m evalsuite` is the `evalsuite` command.
It must never do more than call the CLI."""

import sys

from evalsuite.cli import main

sys.exit(main())
