"""Scripts that run inside the Prefect venv (``bench/peers/prefect3``), never in FactFlow's."""
