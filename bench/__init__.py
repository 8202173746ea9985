"""FactFlow's benchmark harness (``python -m bench``; ``./dev bench``).

Each benchmark measures one claim of issue 6 on SQLite and PostgreSQL, reports
distributions (never single numbers), and, where Prefect 3 does the same job,
runs Prefect side by side in the same run, alternating the two sides so the
noise of a shared machine falls on both.  Results go to a JSON file under
``bench/results/`` and a Markdown table; ``docs/benchmarks.md`` explains them.
"""
