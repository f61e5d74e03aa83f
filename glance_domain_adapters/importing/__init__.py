"""Adapters of the import workflow: file staging area, file task repository, web-download
fetcher (through the ``http`` store driver and its SSRF guard)."""

from glance_domain_adapters.importing.fetcher import HttpFetcher, ImportFilter
from glance_domain_adapters.importing.staging import FileStagingArea
from glance_domain_adapters.importing.tasks import FileTaskRepository

__all__ = ["FileStagingArea", "FileTaskRepository", "HttpFetcher", "ImportFilter"]
