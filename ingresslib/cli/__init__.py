"""The `ingresslib` command line: `check`, `routes` and `explain` manifests; `serve` them.

One module per command (`_check`, `_routes`, `_explain`, `_serve`: each adds its parser and
runs it), the table options they share (`_tables`), and the parser with `main` and `run`
(`_main`). `python -m ingresslib` and the `ingresslib` console script run `run`.
"""

from ingresslib.cli._main import main, run

__all__ = ["main", "run"]
