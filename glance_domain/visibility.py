"""Who may see and who may change an image: decided here and nowhere else.

- ``owns`` is *the* ownership check (admins own everything), for images, members, tasks and
  metadata-definition namespaces; ``is_admin_or_owner`` applies it to an image.
- ``can_see_owned`` is the visibility rule of anything with an owner and a visibility (images
  and metadef namespaces); ``can_see`` adds image membership (GET by id): members of a shared
  image see it whatever their membership status.
- ``list_scope`` answers for listings, with Glance's list semantics (see its docstring).
"""

from __future__ import annotations

from glance_domain.context import RequestContext
from glance_domain.errors import InvalidInput
from glance_domain.model.image import VISIBILITIES, Image
from glance_domain.model.member import MEMBER_STATUSES
from glance_domain.query import ImageQuery, ListScope, ScopeClause

LIST_VISIBILITIES = (*VISIBILITIES, "all")
LIST_MEMBER_STATUSES = (*MEMBER_STATUSES, "all")

_ALL_STATUSES = frozenset(MEMBER_STATUSES)
_NOT_COMMUNITY = frozenset({"public", "private", "shared"})


def owns(context: RequestContext, owner: str | None) -> bool:
    """True if the caller is an admin or its project is ``owner`` (the one ownership rule;
    nobody but an admin owns what has no owner)."""
    if context.is_admin:
        return True
    return owner is not None and context.owner is not None and owner == context.owner


def is_admin_or_owner(context: RequestContext, image: Image) -> bool:
    """True if the caller is an admin or its project owns the image."""
    return owns(context, image.owner)


def can_see_owned(context: RequestContext, owner: str | None, visibility: str) -> bool:
    """Whether the caller may see something with this owner and visibility: admins and the
    owner always, anyone when it is public/community or has no owner."""
    if owner is None or visibility in ("public", "community"):
        return True
    return owns(context, owner)


def can_see(context: RequestContext, image: Image, member_status: str | None) -> bool:
    """Whether the caller may see this (non-deleted) image by id.

    ``member_status`` is the caller's membership status for the image (None if not a member);
    it is only consulted for shared images. Pending and rejected members may GET by id.
    """
    if can_see_owned(context, image.owner, image.visibility):
        return True
    return (context.owner is not None and image.visibility == "shared"
            and member_status is not None)


def shows_locations(context: RequestContext, image: Image) -> bool:
    """Whether ``context`` may see the image's locations (and so ``stores``/``direct_url``):
    Glance hides them for deactivated images from everyone but admins."""
    return image.status != "deactivated" or context.is_admin


def needs_membership(context: RequestContext, image: Image) -> bool:
    """Whether ``can_see`` depends on the caller's membership (so it must be looked up)."""
    return (
        not context.is_admin
        and image.visibility == "shared"
        and image.owner is not None
        and context.owner is not None
        and image.owner != context.owner
    )


def list_scope(context: RequestContext, query: ImageQuery) -> ListScope:
    """Which images ``GET /v2/images`` may return for this caller (Glance's semantics).

    Regular users: public, community, own, and shared images where they are a member with
    ``member_status`` (default ``accepted``; ``all`` = any). Admins: every image.
    Then ``visibility``: a value keeps only that visibility, ``all`` keeps everything, and the
    default view drops community images the caller does not own.
    """
    vis = query.visibility
    if vis is not None and vis not in LIST_VISIBILITIES:
        raise InvalidInput(
            f"Invalid visibility value: {vis}. Must be one of {', '.join(LIST_VISIBILITIES)}."
        )
    status = query.member_status
    if status not in LIST_MEMBER_STATUSES:
        raise InvalidInput(
            f"Invalid status value: {status}. Must be one of {', '.join(LIST_MEMBER_STATUSES)}."
        )
    owner = context.owner
    if context.is_admin:
        if vis == "all":
            return ListScope(unrestricted=True, admin=True)
        if vis is not None:
            return ListScope(unrestricted=True, visibility=vis, admin=True)
        clauses = [ScopeClause(visibilities=_NOT_COMMUNITY)]
        if owner is not None:
            clauses.append(ScopeClause(owner=owner))
        return ListScope(clauses=tuple(clauses), admin=True)

    statuses = _ALL_STATUSES if status == "all" else frozenset({status})
    clauses = []
    if vis in (None, "public", "all"):
        clauses.append(ScopeClause(visibilities=frozenset({"public"})))
    if vis in ("community", "all"):
        clauses.append(ScopeClause(visibilities=frozenset({"community"})))
    if owner is not None:
        if vis in (None, "all"):
            clauses.append(ScopeClause(owner=owner))
        else:
            clauses.append(ScopeClause(owner=owner, visibilities=frozenset({vis})))
        if vis in (None, "all", "shared"):
            clauses.append(
                ScopeClause(
                    member=owner, member_statuses=statuses, visibilities=frozenset({"shared"})
                )
            )
    return ListScope(clauses=tuple(clauses))


def scope_matches(
    scope: ListScope, image: Image, member_status: str | None, member: str | None
) -> bool:
    """Python evaluation of a ListScope for one image (used by the in-memory repository).

    ``member_status`` is the status of ``member`` for this image (None if not a member); callers
    look it up for the single ``member`` project a scope can mention.
    """
    if scope.visibility is not None and image.visibility != scope.visibility:
        return False
    if scope.unrestricted:
        return True
    for clause in scope.clauses:
        if clause.owner is not None and image.owner != clause.owner:
            continue
        if clause.visibilities is not None and image.visibility not in clause.visibilities:
            continue
        if clause.member is not None:
            if clause.member != member or member_status is None:
                continue
            if clause.member_statuses is not None and member_status not in clause.member_statuses:
                continue
        return True
    return False
