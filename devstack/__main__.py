"""`python3 -m devstack setup|run|train`: the commands behind `make setup`, `make run` and `make train`."""

from __future__ import annotations

import argparse
import sys

from devstack.environments import EnvironmentSetupFailed
from devstack.interpreters import InterpreterNotFound
from devstack.processes import PortInUse, ServiceFailed
from devstack.stack import SetupFailed, ensure_model, run, setup
from devstack.training import TrainingFailed
from settings import SettingsError, load_settings

KNOWN_FAILURES = (
    EnvironmentSetupFailed,
    InterpreterNotFound,
    PortInUse,
    ServiceFailed,
    SetupFailed,
    SettingsError,
    TrainingFailed,
)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run one command; known failures print one clear message."""
    parser = argparse.ArgumentParser(prog="python3 -m devstack", description=__doc__)
    parser.add_argument("command", choices=["setup", "run", "train"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "setup":
            setup(settings)
        elif args.command == "train":
            setup(settings, train=False)
            ensure_model(settings)
        else:
            return run(settings)
    except KNOWN_FAILURES as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to continue where it stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
