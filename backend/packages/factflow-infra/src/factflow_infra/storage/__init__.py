"""Object storage: key validation, the local-filesystem backend, per-execution service.

* ``validate_key`` / ``InvalidStorageKeyError`` - the one gate every key passes.
* ``LocalFileStorage`` - ``StorageBackend`` over a directory (atomic writes).
* ``ExecutionStorageService`` - ``ExecutionStorage`` for one execution: bytes in
  a backend, a ``storage_objects`` row each, an observer told of every write.
* ``StorageCommitter`` - group commit: files made durable and rows (with the
  observer's events) written in batches; ``remove_unrecorded_files`` cleans
  what a crash left between the two.
* ``tar_stream`` - a run's objects as one tar archive, streamed in chunks.
* ``get_storage_object`` / ``list_storage_objects`` / ``storage_totals`` -
  repository-style queries.
* ``orphaned_storage_keys`` / ``remove_orphaned_objects`` - objects whose
  message has no lineage row (a process died in between), for recovery.
"""

from factflow_infra.storage.archive import TAR_MEDIA_TYPE, tar_stream
from factflow_infra.storage.batch import (
    CommitSink,
    StorageCommitter,
    StorageFlushError,
    SyncingBackend,
)
from factflow_infra.storage.keys import (
    MAX_KEY_LENGTH,
    MAX_SEGMENT_BYTES,
    InvalidStorageKeyError,
    validate_key,
)
from factflow_infra.storage.local import LocalFileStorage
from factflow_infra.storage.orphans import orphaned_storage_keys, remove_orphaned_objects
from factflow_infra.storage.queries import (
    StorageObjectRecord,
    StorageTotals,
    delete_storage_object,
    get_storage_object,
    list_storage_objects,
    storage_totals,
    upsert_storage_object,
    upsert_storage_objects,
)
from factflow_infra.storage.recovery import remove_unrecorded_files
from factflow_infra.storage.service import ExecutionStorageService

__all__ = [
    "MAX_KEY_LENGTH",
    "MAX_SEGMENT_BYTES",
    "TAR_MEDIA_TYPE",
    "CommitSink",
    "ExecutionStorageService",
    "InvalidStorageKeyError",
    "LocalFileStorage",
    "StorageCommitter",
    "StorageFlushError",
    "StorageObjectRecord",
    "StorageTotals",
    "SyncingBackend",
    "delete_storage_object",
    "get_storage_object",
    "list_storage_objects",
    "orphaned_storage_keys",
    "remove_orphaned_objects",
    "remove_unrecorded_files",
    "storage_totals",
    "tar_stream",
    "upsert_storage_object",
    "upsert_storage_objects",
    "validate_key",
]
