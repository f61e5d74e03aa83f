"""The OpenAPI 3.1 description of the API, generated from the route table and the schemas.

Served at ``GET /v2/openapi.json`` and committed as ``docs/openapi.json`` (written and checked
by ``tools/gen_docs.py``).
"""

from glance_domain_adapters.wsgi.openapi.document import (
    DocumentError,
    build_document,
    create_resource,
    encode,
)

__all__ = ["DocumentError", "build_document", "create_resource", "encode"]
