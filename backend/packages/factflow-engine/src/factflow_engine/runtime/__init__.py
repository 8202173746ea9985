"""The run-time side of the engine: the orchestrator and its parts."""
