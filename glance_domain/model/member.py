"""Image membership: sharing an image with another project."""

from __future__ import annotations

import datetime as dt

import attrs

MEMBER_STATUSES = ("pending", "accepted", "rejected")


@attrs.frozen(kw_only=True)
class Member:
    """A project an image is shared with, and whether it accepted the share."""

    image_id: str
    member_id: str
    status: str = "pending"
    created_at: dt.datetime
    updated_at: dt.datetime
