"""`python3 -m devstack setup|run|train|exec`: the commands behind the Makefile's targets."""

from __future__ import annotations

import argparse
import sys

from devstack.environments import RUNTIMES, EnvironmentSetupFailed
from devstack.interpreters import InterpreterNotFound
from devstack.processes import PortInUse, ServiceFailed
from devstack.stack import SetupFailed, ensure_model, exec_in_runtime, run, setup
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
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("setup", help="create what is missing: environments, demo data, index, model")
    commands.add_parser("run", help="set up, then start every server until Ctrl-C")
    commands.add_parser("train", help="train the Rasa model if its inputs changed")
    in_runtime = commands.add_parser("exec", help="run a command inside a runtime's environment")
    in_runtime.add_argument("runtime", choices=[r.name for r in RUNTIMES])
    in_runtime.add_argument("program", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "exec":
            return exec_in_runtime(settings, args.runtime, args.program)
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
