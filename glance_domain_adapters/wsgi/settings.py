"""API-level settings of the WSGI application (what Glance reads from its [DEFAULT] options).

The domain has its own :class:`glance_domain.settings.DomainSettings`; these are the knobs only the
HTTP edge needs: which optional response fields to show, the advertised import methods, whether
the deployment is "multi-store" (Glance's ``enabled_backends``), and the public endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.frozen(kw_only=True)
class StoreDetail:
    """What ``/v2/info/stores/detail`` shows about one backend besides its id."""

    type: str = ""
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    weight: int = 0


@attrs.frozen(kw_only=True)
class ApiSettings:
    """Options of the HTTP API (Glance option names in comments).

    Limits, formats, ``show_image_direct_url`` and ``show_multiple_locations`` live in
    :class:`~glance_domain.settings.DomainSettings` (the domain needs them too) and are read
    from there.

    - ``multi_store``: behave like a Glance with ``enabled_backends`` set (the common case, and
      what our store registry always is): images show ``stores``, ``/v2/info/stores`` answers,
      ``DELETE /v2/stores/{store}/{image}`` is available, versions 2.8 and 2.10-2.13 are listed.
    - ``enabled_import_methods``: advertised by ``/v2/info/import`` and the create response;
      None (the default) takes the domain's ``DomainSettings.enabled_import_methods``, which
      is also what the import and stage calls accept.
    - ``public_endpoint``: base URL for the versions document (default: the request's own URL).
    """

    multi_store: bool = True  # [DEFAULT] enabled_backends is set
    enabled_import_methods: tuple[str, ...] | None = None  # [DEFAULT] enabled_import_methods
    public_endpoint: str | None = None  # [DEFAULT] public_endpoint
    store_details: Mapping[str, StoreDetail] = attrs.field(factory=dict)
    max_request_id_length: int = 64  # [DEFAULT] max_request_id_length
    #: Largest JSON request body accepted (bytes); past it the API answers 413 without
    #: buffering more (Glance has no such bound; a client could make it buffer gigabytes).
    max_json_body_size: int = 1 << 20
    #: Seconds a client socket may stay idle during a request (``[DEFAULT]
    #: client_socket_timeout``; None waits forever). gunicorn's gthread worker reads request
    #: bodies on a blocking socket without a timeout: a client announcing more bytes than it
    #: sends would otherwise hold a worker thread for good.
    client_socket_timeout: float | None = None
    #: Serve the legacy Image API v1 under ``/v1`` (``[DEFAULT] enable_v1_api``).
    enable_v1_api: bool = False
