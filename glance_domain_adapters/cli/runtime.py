"""What a command needs to run: its options, configuration, the gateway and the caller's context.

Everything is built lazily, so ``glance-domain --help`` or a usage error never touches the
database or the stores, and ``db`` commands never build the gateway. The configuration comes from
``glance_domain_adapters.bootstrap.load_config`` (``--config-file``, repeatable, like every
OpenStack service); the gateway from ``bootstrap.build_gateway`` unless an embedding program or a
test hands ``main()`` a ``gateway_factory``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO, cast

import attrs

from glance_domain.context import RequestContext

if TYPE_CHECKING:
    from glance_domain.service import ImageService

#: Roles of the default CLI caller: a local administrator, as for ``glance-manage``.
ADMIN_ROLES: tuple[str, ...] = ("admin", "member", "reader")
#: Roles of a caller that named itself with --os-project-id but gave no --os-roles.
MEMBER_ROLES: tuple[str, ...] = ("member", "reader")
#: The project the local administrator belongs to when the configuration names none.
DEFAULT_PROJECT = "admin"

GatewayFactory = Callable[[], Any]


@attrs.define
class Runtime:
    """The per-invocation state shared by all command handlers."""

    args: argparse.Namespace
    stdout: TextIO = attrs.field(factory=lambda: sys.stdout)
    stderr: TextIO = attrs.field(factory=lambda: sys.stderr)
    stdin: TextIO = attrs.field(factory=lambda: sys.stdin)
    gateway_factory: GatewayFactory | None = None
    _conf: Any = None
    _gateway: Any = None

    # -- output ---------------------------------------------------------------------------
    @property
    def fmt(self) -> str:
        return str(getattr(self.args, "format", None) or "table")

    @property
    def columns(self) -> list[str] | None:
        return getattr(self.args, "columns", None) or None

    def binary_stdout(self) -> BinaryIO:
        """stdout for raw bytes (image data)."""
        stream: Any = self.stdout
        return cast("BinaryIO", getattr(stream, "buffer", stream))

    def binary_stdin(self) -> BinaryIO:
        stream: Any = self.stdin
        return cast("BinaryIO", getattr(stream, "buffer", stream))

    # -- configuration and wiring -----------------------------------------------------------
    @property
    def conf(self) -> Any:
        """The oslo.config ``ConfigOpts`` for this run (loaded once)."""
        if self._conf is None:
            from glance_domain_adapters import bootstrap

            files = list(getattr(self.args, "config_file", None) or [])
            self._conf = bootstrap.load_config([], files)
        return self._conf

    @property
    def gateway(self) -> Any:
        """The composed ``glance_domain.gateway.Gateway`` (built once)."""
        if self._gateway is None:
            if self.gateway_factory is not None:
                self._gateway = self.gateway_factory()
            else:
                from glance_domain_adapters import bootstrap

                self._gateway = bootstrap.build_gateway(self.conf)
        return self._gateway

    def context(self) -> RequestContext:
        """Who the command acts as: the local admin, unless --os-* options say otherwise."""
        args = self.args
        project = getattr(args, "os_project_id", None)
        user = getattr(args, "os_user_id", None)
        roles_text = getattr(args, "os_roles", None)
        if project is None and user is None and roles_text is None:
            return RequestContext(
                user_id="admin", project_id=self._default_project(), roles=ADMIN_ROLES,
                is_admin=True,
            )
        roles = (
            tuple(r.strip() for r in roles_text.split(",") if r.strip())
            if roles_text is not None
            else MEMBER_ROLES
        )
        context = RequestContext(
            user_id=user,
            project_id=project if project is not None else self._default_project(),
            roles=roles,
        )
        return attrs.evolve(context, is_admin=self._is_admin(context))

    def _is_admin(self, context: RequestContext) -> bool:
        """The policy's ``context_is_admin`` rule decides, as for API requests."""
        decide = getattr(getattr(self.gateway, "policy", None), "is_admin", None)
        if callable(decide):
            return bool(decide(context))
        return "admin" in context.roles

    def _default_project(self) -> str:
        """``[DEFAULT] default_project_id`` (the local admin's project), as the API uses."""
        if self.gateway_factory is not None:
            return DEFAULT_PROJECT
        return str(self.conf.default_project_id or DEFAULT_PROJECT)

    def service(self) -> ImageService:
        """An ImageService for this command's caller."""
        service: ImageService = self.gateway.service(self.context())
        return service
