"""`python -m lamplighter.cli`: the `lamplighter` command."""

import sys

from lamplighter.cli.main import main

sys.exit(main())
