"""Build the domain RequestContext of an HTTP request from keystonemiddleware's headers.

keystonemiddleware (``auth_token`` with ``delay_auth_decision``) validates the token and sets
``X-Identity-Status`` plus the identity headers read here. Like Glance's context middleware:

- ``X-Identity-Status: Confirmed`` -> an authenticated context (roles lower-cased);
- ``X-Identity-Status`` present but not ``Confirmed`` (an invalid token) -> 401;
- no identity headers at all (no auth middleware in front, a standalone deployment) -> a local
  admin of ``default_project`` so that created images still get an owner.

``is_admin(ctx)`` decides admin-ness (the platform passes oslo.policy's ``context_is_admin``);
by default a caller is admin when it has the ``admin`` role.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from glance_domain.context import RequestContext

IsAdmin = Callable[[RequestContext], bool]
ContextFactory = Callable[[Mapping[str, Any]], RequestContext]


class Unauthenticated(Exception):
    """The request carries an identity that keystonemiddleware did not confirm (-> 401)."""


class RequestIdTooLong(Exception):
    """The client's ``X-Openstack-Request-Id`` exceeds the allowed length (-> 431)."""


def default_is_admin(context: RequestContext) -> bool:
    """Glance's default ``context_is_admin`` rule: ``role:admin``."""
    return "admin" in context.roles


def _catalog(value: str | None) -> tuple[Any, ...]:
    """keystonemiddleware's ``X-Service-Catalog`` (JSON list); anything else counts as no
    catalog (only the glance-download import method reads it, and then finds no endpoint)."""
    if not value:
        return ()
    try:
        catalog = json.loads(value)
    except ValueError:
        return ()
    return tuple(catalog) if isinstance(catalog, list) else ()


def _split(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(r.strip().lower() for r in value.split(",") if r.strip())


_IDENTITY_KEYS = (
    "HTTP_X_IDENTITY_STATUS", "HTTP_X_USER_ID", "HTTP_X_PROJECT_ID", "HTTP_X_TENANT_ID",
    "HTTP_X_ROLES", "HTTP_X_ROLE", "HTTP_X_USER", "HTTP_X_TENANT",
)


@attrs.frozen(kw_only=True)
class HeaderContextFactory:
    """``context_factory(environ) -> RequestContext`` reading keystonemiddleware's headers."""

    is_admin: IsAdmin = default_is_admin
    default_project: str = "admin"
    default_user: str | None = None
    max_request_id_length: int = 64
    #: Refuse (401) a request without identity instead of making it the local admin: set
    #: when keystonemiddleware is meant to authenticate every request.
    require_identity: bool = False

    def __call__(self, environ: Mapping[str, Any]) -> RequestContext:
        request_id = self._request_id(environ)
        status = environ.get("HTTP_X_IDENTITY_STATUS")
        if status is None and not any(k in environ for k in _IDENTITY_KEYS):
            if self.require_identity:
                raise Unauthenticated("The request you have made requires authentication.")
            return RequestContext(
                user_id=self.default_user,
                project_id=self.default_project,
                roles=("admin", "member", "reader"),
                is_admin=True,
                request_id=request_id,
            )
        if status is not None and status != "Confirmed":
            raise Unauthenticated("The request you have made requires authentication.")
        ctx = RequestContext(
            user_id=environ.get("HTTP_X_USER_ID") or environ.get("HTTP_X_USER"),
            project_id=(
                environ.get("HTTP_X_PROJECT_ID")
                or environ.get("HTTP_X_TENANT_ID")
                or environ.get("HTTP_X_TENANT")
            ),
            roles=_split(environ.get("HTTP_X_ROLES") or environ.get("HTTP_X_ROLE")),
            service_roles=_split(environ.get("HTTP_X_SERVICE_ROLES")),
            auth_token=environ.get("HTTP_X_AUTH_TOKEN"),
            service_catalog=_catalog(environ.get("HTTP_X_SERVICE_CATALOG")),
            domain_id=(
                environ.get("HTTP_X_DOMAIN_ID")
                or environ.get("HTTP_X_PROJECT_DOMAIN_ID")
                or environ.get("HTTP_X_USER_DOMAIN_ID")
            ),
            request_id=request_id,
        )
        if self.is_admin(ctx):
            ctx = attrs.evolve(ctx, is_admin=True)
        return ctx

    def _request_id(self, environ: Mapping[str, Any]) -> str:
        given = environ.get("HTTP_X_OPENSTACK_REQUEST_ID")
        if given:
            if 0 < self.max_request_id_length < len(given):
                raise RequestIdTooLong(
                    f"x-openstack-request-id is too long, max size {self.max_request_id_length}"
                )
            return str(given)
        # the id the request-log middleware made for the log lines (oslo.middleware's key)
        made = environ.get("openstack.request_id")
        return str(made) if made else "req-" + str(uuid.uuid4())


def make_context_factory(
    *, is_admin: IsAdmin | None = None, default_project: str = "admin",
    default_user: str | None = None, max_request_id_length: int = 64,
    require_identity: bool = False,
) -> ContextFactory:
    """The default context factory (see module docstring)."""
    return HeaderContextFactory(
        is_admin=is_admin or default_is_admin,
        default_project=default_project,
        default_user=default_user,
        max_request_id_length=max_request_id_length,
        require_identity=require_identity,
    )
