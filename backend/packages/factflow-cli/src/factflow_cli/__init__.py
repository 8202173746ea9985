"""FactFlow's command line, ``factflow``: a client of the REST API (see ``_app``)."""

__version__ = "0.1.0"

__all__ = ["__version__"]
