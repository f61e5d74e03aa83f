"""The request context: who is calling.

Built at the edge (from keystonemiddleware headers, the CLI, or an embedding program) and passed
into every gateway call. ``is_admin`` is decided at the edge by the policy enforcer's
``context_is_admin`` rule, so the domain never parses roles itself for admin-ness.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import attrs


def _roles(value: Iterable[str]) -> tuple[str, ...]:
    """Roles as an immutable tuple (a typed converter, so mypy accepts any iterable of str)."""
    return tuple(value)


def _new_request_id() -> str:
    return "req-" + str(uuid.uuid4())


@attrs.frozen(kw_only=True)
class RequestContext:
    """Identity of the caller of one operation (one HTTP request, one CLI call...)."""

    user_id: str | None = None
    project_id: str | None = None
    roles: tuple[str, ...] = attrs.field(default=(), converter=_roles)
    is_admin: bool = False
    read_only: bool = False
    service_roles: tuple[str, ...] = attrs.field(default=(), converter=_roles)
    request_id: str = attrs.field(factory=_new_request_id)
    domain_id: str | None = None
    #: The caller's token, for services called on its behalf (a key manager fetching a
    #: signing certificate); never shown in a repr.
    auth_token: str | None = attrs.field(default=None, repr=False)
    #: The caller's service catalog (keystonemiddleware's ``X-Service-Catalog``), where the
    #: glance-download import method finds the remote region's image endpoint.
    service_catalog: tuple[Any, ...] = attrs.field(
        default=(), repr=False, eq=False, converter=tuple)

    @property
    def owner(self) -> str | None:
        """The owner assigned to images this caller creates (its project)."""
        return self.project_id
