"""FactFlow engine: pipeline configs, the route directory, the component registry and
the ``PipelineOrchestrator`` that runs one execution.

Typical use (the execution layer does this)::

    registry = Registry.from_entry_points()
    definition = load_definition(text, filename="facts.yaml", registry=registry)
    pipeline = resolve(definition, {"source_dir": "docs"}, registry=registry)
    queue_names = RouteDirectory(settings.routes, settings.queue_prefix).resolve(pipeline)
    orchestrator = PipelineOrchestrator(execution_id, pipeline, queue_names=queue_names,
        queues=..., lineage=..., storage=..., callback=..., registry=registry)
    await orchestrator.start()
    outcome = await orchestrator.wait()

Errors: ``ConfigValidationError`` (an ``InvalidInputError``) carries every
``ValidationIssue`` found.  In-memory doubles for tests live in
``factflow_engine.testing``.
"""

from factflow_engine.catalogue import ComponentInfo, describe_component, describe_components
from factflow_engine.config.gate import ConfigCheckBusyError, ConfigGate
from factflow_engine.config.limits import ConfigLimits
from factflow_engine.config.loader import load_definition
from factflow_engine.config.resolver import ResolvedPipeline, resolve
from factflow_engine.config.schema import PipelineDefinition, RouteDefinition
from factflow_engine.directory import RouteDirectory
from factflow_engine.errors import ConfigValidationError, ValidationIssue
from factflow_engine.file_access import FileAccess, FileAccessError
from factflow_engine.registry import ComponentOptions, Registry
from factflow_engine.runtime.continuation import (
    REGENERATE_HEADER,
    ResumePlan,
    child_message_id,
    root_message_id,
)
from factflow_engine.runtime.orchestrator import PipelineOrchestrator

__all__ = [
    "REGENERATE_HEADER",
    "ComponentInfo",
    "ComponentOptions",
    "ConfigCheckBusyError",
    "ConfigGate",
    "ConfigLimits",
    "ConfigValidationError",
    "FileAccess",
    "FileAccessError",
    "PipelineDefinition",
    "PipelineOrchestrator",
    "Registry",
    "ResolvedPipeline",
    "ResumePlan",
    "RouteDefinition",
    "RouteDirectory",
    "ValidationIssue",
    "child_message_id",
    "describe_component",
    "describe_components",
    "load_definition",
    "resolve",
    "root_message_id",
]
