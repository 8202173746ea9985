"""FactFlow HTTP API."""
