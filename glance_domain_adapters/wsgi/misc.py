"""``/v2/schemas/*``: the documents (built once at start-up).

(The image cache API lives in :mod:`.cache`, metadata definitions in :mod:`.metadefs`.)
"""

from __future__ import annotations

from typing import Any

from glance_domain_adapters.wsgi.http import Request, Response, json_response
from glance_domain_adapters.wsgi.resource import Resource


class SchemasController:
    """Each action is a schema name (``image``, ``metadefs/tags``...); bodies are pre-encoded."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self._bodies = {name: json_response(doc).body for name, doc in documents.items()}

    def __getattr__(self, action: str) -> Any:
        try:
            body = self._bodies[action]
        except KeyError:
            raise AttributeError(action) from None
        return lambda req: body


class SchemasSerializer:
    def default(self, req: Request, body: bytes) -> Response:
        return Response(200, body, [("Content-Type", "application/json")])


def schemas_resource(documents: dict[str, Any]) -> Resource:
    return Resource("schemas", SchemasController(documents), serializer=SchemasSerializer())

