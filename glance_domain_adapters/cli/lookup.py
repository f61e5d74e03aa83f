"""Images named by name or id on the command line, and one wording when there is none.

People type names (``openstack image show cirros``); scripts pass ids. ``find_image`` accepts
either, as openstackclient does: an id the caller can see wins; otherwise the name must match
exactly one image the caller can see (any visibility, shared images whatever their member
status, hidden or not). Several matches are refused with the candidates' ids, so a command
never acts on a guess. Every "no such image" reads the same whatever the command
(``errors.NOT_FOUND``), including a ``NotFound`` the service raises later (an image deleted
meanwhile).
"""

from __future__ import annotations

from typing import Any

from glance_domain import errors
from glance_domain.query import Filter, ImageQuery, SortKey
from glance_domain_adapters.cli.errors import NOT_FOUND, CliError

#: Help of every IMAGE argument.
IMAGE_HELP = "the image's name or ID"
#: Candidates listed when a name is ambiguous (more are counted, not listed).
MAX_CANDIDATES = 10


def not_found(ref: str) -> CliError:
    return CliError(NOT_FOUND.format(ref=ref))


def find_image(service: Any, ref: str) -> Any:
    """The image whose id or (unique) name is ``ref``, as the caller sees it."""
    try:
        return service.get_image(ref)
    except (errors.NotFound, errors.InvalidInput):
        pass
    query = ImageQuery(
        filters=(Filter("name", "eq", ref),), visibility="all", member_status="all",
        os_hidden=None, sort=(SortKey("created_at", "desc"), SortKey("id", "desc")),
        limit=MAX_CANDIDATES + 1,
    )
    matches = service.list_images(query)
    if not matches:
        raise not_found(ref)
    if len(matches) > 1:
        shown = ", ".join(m.id for m in matches[:MAX_CANDIDATES])
        more = " and more" if len(matches) > MAX_CANDIDATES else ""
        raise CliError(f"More than one image is named '{ref}' ({shown}{more}): "
                       "name it by ID")
    return matches[0]


def image_id(service: Any, ref: str) -> str:
    """The id of the image ``ref`` names (see ``find_image``)."""
    return str(find_image(service, ref).id)



def cached_image_id(service: Any, ref: str) -> str:
    """Like ``image_id``, but a ``ref`` that names no image is taken as the ID it may be: the
    cache can hold copies of images deleted since (an ambiguous name is still refused)."""
    try:
        return image_id(service, ref)
    except CliError as exc:
        if exc.message == NOT_FOUND.format(ref=ref):
            return ref
        raise
