"""Interoperable image import: staging, import requests, tasks and their background runner.

- :mod:`.request`: :class:`ImportRequest`, what a caller asks for (method, uri, stores...).
- :mod:`.importer`: :class:`Importer`, request-time checks, the import lock and task creation,
  then the background run (stage/download/copy -> stores -> active), reverting on failure.
- :mod:`.plugins`: the import plugin port (:class:`ImportPlugin`) and what a plugin may do
  (:class:`ImportJob`).
- :mod:`.memory`: in-memory ``TaskRepository`` and ``StagingArea`` for embedding and tests.
- :mod:`.executor`: ``TaskExecutor`` implementations (thread pool, inline).
"""

from glance_domain.importing.executor import InlineExecutor, ThreadExecutor
from glance_domain.importing.importer import Importer
from glance_domain.importing.memory import MemoryStagingArea, MemoryTaskRepository
from glance_domain.importing.plugins import ImportJob, ImportPlugin, NamedPlugin
from glance_domain.importing.request import ImportRequest

__all__ = [
    "ImportJob",
    "ImportPlugin",
    "ImportRequest",
    "Importer",
    "InlineExecutor",
    "MemoryStagingArea",
    "MemoryTaskRepository",
    "NamedPlugin",
    "ThreadExecutor",
]
