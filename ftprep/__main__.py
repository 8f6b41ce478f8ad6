"""``python -m ftprep``."""

import sys

from ftprep.cli import main

sys.exit(main())
