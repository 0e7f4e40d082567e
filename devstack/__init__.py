"""The launcher: sets up both runtimes and the built artifacts, runs and stops the servers.

Runs on the machine's Python 3 with the standard library only, before any environment exists.
"""
