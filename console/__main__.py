"""`python -m console ...`: the console's commands (see console/cli.py)."""

from console.cli import app

app()
