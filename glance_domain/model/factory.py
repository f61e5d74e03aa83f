"""ImageFactory: builds a new, validated, queued Image from client-supplied attributes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from glance_domain.context import RequestContext
from glance_domain.errors import InvalidInput, ReservedAttribute
from glance_domain.model import validation
from glance_domain.model.image import Image
from glance_domain.model.member import Member
from glance_domain.ports import Clock
from glance_domain.settings import DomainSettings

#: Computed attributes Glance silently drops from a create request instead of refusing them.
IGNORED_ON_CREATE = frozenset({"os_hash_algo", "os_hash_value"})


class ImageFactory:
    """Creates images with Glance's defaults (visibility ``shared``, owner = caller's project)."""

    def __init__(self, settings: DomainSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock

    def new_image(self, context: RequestContext, /, **attributes: Any) -> Image:
        """A queued Image. Core attributes are validated; any other name is an extra property
        (string value). Read-only and reserved names (``locations`` included) raise
        ``ReadOnlyAttribute`` / ``ReservedAttribute``; ``os_hash_algo``/``os_hash_value`` are
        ignored, as Glance does. Ownership rules (who may set ``owner``) are the authorization
        layer's job, not the factory's.
        """
        settings = self._settings
        core: dict[str, Any] = {}
        extra: dict[str, str] = {}
        extra_in = attributes.pop("extra_properties", None) or {}
        for name, value in (*attributes.items(), *extra_in.items()):
            if name in IGNORED_ON_CREATE:
                continue
            validation.check_writable_name(name)
            if name in validation.WRITABLE_ATTRIBUTES:
                core[name] = validation.attribute(name, value, settings)
            elif name == "locations":
                raise ReservedAttribute("Attribute 'locations' is reserved.")
            else:
                extra[validation.property_name(name)] = validation.property_value(name, value)
        image_id = core.pop("id", None) or str(uuid.uuid4())
        if "owner" not in core:
            core["owner"] = context.owner
        now = self._clock.now()
        return Image(
            id=image_id, created_at=now, updated_at=now, extra_properties=extra, **core
        )

    def now(self) -> dt.datetime:
        """The factory clock's current time (for ``updated_at`` of changed records)."""
        return self._clock.now()

    def new_member(self, image: Image, member_id: str) -> Member:
        """A pending membership of ``member_id`` in ``image``."""
        if not isinstance(member_id, str) or not member_id or len(member_id) > 255:
            raise InvalidInput("Invalid value for 'member': it must be a non-empty string of "
                               "at most 255 characters.")
        now = self._clock.now()
        return Member(image_id=image.id, member_id=member_id, created_at=now, updated_at=now)
