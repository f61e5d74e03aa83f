"""The versions document and version negotiation (URL prefix or ``Accept`` media type).

Like Glance's negotiation filter: ``/versions`` answers 200 with the list; an ``Accept`` header
starting with ``application/vnd.openstack.images-`` names the version and the path is kept; else
the first path segment is the version (``v2``, ``v2.0``... ``v2.17``) and is replaced by ``v2``;
anything else (``/``, ``/v3/images``, ``/images``) answers 300 with the list.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from glance_domain_adapters.wsgi.http import Response

VND_PREFIX = "application/vnd.openstack.images-"
_BASE_VERSIONS = ("2.0", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.9", "2.15", "2.17")
_MULTI_STORE_VERSIONS = ("2.8", "2.10", "2.11", "2.12", "2.13")
#: Versions Glance adds when ``image_cache_dir`` is set (the cache API; 2.18 is then current).
_CACHE_VERSIONS = ("2.14", "2.16", "2.18")


def allowed_versions(multi_store: bool, cache: bool = False) -> frozenset[str]:
    """The version tokens accepted in a URL or media type."""
    versions = {"v2"} | {"v" + v for v in _BASE_VERSIONS}
    if multi_store:
        versions |= {"v" + v for v in _MULTI_STORE_VERSIONS}
    if cache:
        versions |= {"v" + v for v in _CACHE_VERSIONS}
    return frozenset(versions)


def version_list(multi_store: bool, cache: bool = False) -> list[tuple[str, str]]:
    """(id, status) pairs in Glance's order."""
    if cache:
        versions = [("v2.18", "CURRENT")]
        versions += [(f"v2.{m}", "SUPPORTED") for m in (17, 16, 15, 14)]
    else:
        versions = [("v2.15", "SUPPORTED")]
    if multi_store:
        versions += [(f"v2.{m}", "SUPPORTED") for m in (13, 12, 11, 10, 9, 8)]
    else:
        versions.append(("v2.9", "SUPPORTED"))
    if not cache:
        versions.append(("v2.17", "CURRENT"))
    versions += [(f"v2.{m}", "SUPPORTED") for m in (7, 6, 5, 4, 3, 2, 1, 0)]
    return versions


class VersionsDocument:
    """Renders the versions list for a base URL (cached per URL: there are few)."""

    def __init__(self, multi_store: bool, public_endpoint: str | None,
                 cache: bool = False, v1: bool = False) -> None:
        self.versions = version_list(multi_store, cache)
        if v1:  # Glance's last releases with v1 listed it after v2, both deprecated
            self.versions += [("v1.1", "DEPRECATED"), ("v1.0", "DEPRECATED")]
        self.public_endpoint = public_endpoint
        self._cache: dict[str, bytes] = {}

    def body(self, application_url: str) -> bytes:
        base = (self.public_endpoint or application_url).rstrip("/") + "/"
        body = self._cache.get(base)
        if body is None:
            doc = {
                "versions": [
                    {"id": vid, "status": status,
                     "links": [{"rel": "self", "href": base + vid[:2] + "/"}]}
                    for vid, status in self.versions
                ]
            }
            body = json.dumps(doc).encode("utf-8")
            if len(self._cache) < 64:
                self._cache[base] = body
        return body

    def response(self, application_url: str, status: int) -> Response:
        return Response(
            status, self.body(application_url), [("Content-Type", "application/json")]
        )


def negotiate(path: str, accept: str, allowed: frozenset[str]) -> str | None:
    """The path under ``/v2`` for a request, or None when the version is unknown (-> 300)."""
    if accept.startswith(VND_PREFIX):
        if accept[len(VND_PREFIX):] in allowed:
            return "/v2" + path
        return None
    stripped = path.lstrip("/")
    token, sep, rest = stripped.partition("/")
    if token in allowed:
        return "/v2" + sep + rest
    return None


class VersionsOutside:
    """Version discovery straight to ``app``, everything else through ``guarded`` (the
    authentication middleware): Glance's version negotiation answers before auth_token, so
    clients discover the API without a token. ``app`` tells which requests are discovery
    (``GlanceApp.is_version_discovery``)."""

    def __init__(self, app: Any, guarded: Callable[..., Any]) -> None:
        self.app = app
        self.guarded = guarded
        self._is_discovery = app.is_version_discovery

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        target = self.app if self._is_discovery(environ) else self.guarded
        return target(environ, start_response)  # type: ignore[no-any-return]
