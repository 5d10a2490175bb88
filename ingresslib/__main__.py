"""`python -m ingresslib` runs the command line."""

from ingresslib.cli import run

__all__: list[str] = []

run()
