"""`python -m store`: the operator command line (see store/cli.py)."""

from store.cli import app

app(prog_name="python -m store")
