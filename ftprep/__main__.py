"""``python -m ftprep``."""

from ftprep.cli import run

run()
