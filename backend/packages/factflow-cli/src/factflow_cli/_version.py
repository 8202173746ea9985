"""The CLI's version, in a module of its own so every other module can import it
without importing the package's ``__init__`` (which loads ``_app`` lazily)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
