"""Built-in processors and adapters (registered as entry points like any plugin)."""
