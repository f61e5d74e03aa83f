"""The metadata-definitions (metadefs) API: ``/v2/metadefs/...`` and its schema documents."""

from glance_domain_adapters.wsgi.metadefs.controllers import create_resource, schema_documents

__all__ = ["create_resource", "schema_documents"]
