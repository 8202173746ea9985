"""FactFlow's command line, ``factflow``: a client of the REST API (see ``_app``).

``main(argv)`` runs the command and returns its exit code; ``app`` is the Typer
application (for ``typer.testing.CliRunner``).  Both load lazily, so importing
the package costs nothing.
"""

from typing import TYPE_CHECKING, Any

from factflow_cli._version import __version__

__all__ = ["__version__", "app", "main"]

if TYPE_CHECKING:
    from factflow_cli._app import app, main


def __getattr__(name: str) -> Any:
    if name in ("app", "main"):
        from factflow_cli import _app

        return getattr(_app, name)
    raise AttributeError(f"module 'factflow_cli' has no attribute {name!r}")
