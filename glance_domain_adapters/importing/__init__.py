"""Adapters of the import workflow: file staging area, web-download fetcher (through the
``http`` store driver and its SSRF guard). Tasks live in the image database
(:mod:`glance_domain_adapters.db.tasks`)."""

from glance_domain_adapters.importing.fetcher import HttpFetcher, ImportFilter
from glance_domain_adapters.importing.staging import FileStagingArea

__all__ = ["FileStagingArea", "HttpFetcher", "ImportFilter"]
