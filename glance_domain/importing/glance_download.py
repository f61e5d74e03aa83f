"""The ``glance-download`` import method: an image of another Glance region, copied here
(Glance's inter-region import).

The caller names the remote image (``glance_image_id``, a UUID), its region
(``glance_region``) and the endpoint interface (``glance_service_interface``, ``public`` by
default); the remote Glance endpoint is the ``image`` service of that region in the caller's
service catalog (the ``X-Service-Catalog`` keystonemiddleware sets). The import reads the
remote image's record with the caller's token (it must be ``active``), takes its
``disk_format``, ``container_format`` and the properties whose names start with one of
``[glance_download_properties] extra_properties`` (never ``os_glance_*``), stages its data,
and checks that the size received is the remote image's size; then it goes on as a
web-download does. A failure puts the formats back and removes the copied properties.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from glance_domain.errors import InvalidInput
from glance_domain.importing.request import ImportRequest


class RemoteImageError(Exception):
    """The remote image cannot be imported (its endpoint, record, status or size)."""


def check_request(request: ImportRequest) -> None:
    """Glance's 400s for a glance-download request (after the image's own checks)."""
    if request.glance_region is None:
        raise InvalidInput("'glance_region' needs to be set for glance-download import method")
    if request.glance_image_id is None:
        raise InvalidInput(
            "'glance_image_id' needs to be set for glance-download import method")
    try:
        uuid.UUID(str(request.glance_image_id))
    except ValueError:
        raise InvalidInput("Remote image id does not look like a UUID: "
                           f"{request.glance_image_id}") from None


def remote_endpoint(catalog: Sequence[Any], region: str, interface: str) -> str:
    """The ``image`` endpoint of ``region`` for ``interface`` in a service catalog (the v2
    form keystonemiddleware sends, ``publicURL``..., or the v3 form, ``interface``/``url``)."""
    for service in catalog or ():
        if not isinstance(service, Mapping) or service.get("type") != "image":
            continue
        for endpoint in service.get("endpoints") or ():
            if not isinstance(endpoint, Mapping):
                continue
            where = endpoint.get("region") or endpoint.get("region_id") or ""
            if str(where).lower() != region.lower():
                continue
            url = endpoint.get(f"{interface}URL")
            if url is None and endpoint.get("interface") == interface:
                url = endpoint.get("url")
            if isinstance(url, str) and url:
                return url.rstrip("/")
    raise RemoteImageError(f"No glance endpoint found for region {region} and interface "
                           f"{interface}")


def remote_metadata(remote: Mapping[str, Any], prefixes: Sequence[str]
                    ) -> tuple[dict[str, Any], dict[str, str], int]:
    """From a remote image record: the formats to take, the properties to copy, the size."""
    if remote.get("status") != "active":
        raise RemoteImageError(
            f"Source image status should be active instead of {remote.get('status')}")
    formats = {"disk_format": remote.get("disk_format"),
               "container_format": remote.get("container_format")}
    properties = {
        str(key): str(value) for key, value in remote.items()
        if any(str(key).startswith(prefix) for prefix in prefixes)
        and not str(key).startswith("os_glance") and isinstance(value, str)
    }
    try:
        size = int(remote["size"])
    except (KeyError, TypeError, ValueError):
        raise RemoteImageError(f"Size attribute of remote image {remote.get('id')} could not "
                               "be determined.") from None
    return formats, properties, size
