"""Domain errors become HTTP errors in one place, ``wsgi/errors.py`` (review P2.1): the
status table, the per-action status overrides and the per-action message templates."""

from __future__ import annotations

import re
from pathlib import Path

from glance_domain import errors as e
from glance_domain_adapters.wsgi import errors as wsgi_errors
from glance_domain_adapters.wsgi.errors import from_domain

WSGI = Path(wsgi_errors.__file__).parent
#: The image API controllers: none catches a domain error to turn it into a response.
CONTROLLERS = ("images.py", "image_data.py", "members.py", "tags.py", "actions.py", "tasks.py")
_DOMAIN_ERRORS = "|".join(
    name for name, value in vars(e).items()
    if isinstance(value, type) and issubclass(value, e.DomainError)
)


def test_controllers_leave_domain_errors_to_the_table() -> None:
    pattern = re.compile(rf"except \(?[^:]*\b({_DOMAIN_ERRORS})\b")
    offenders = [
        f"{name}:{number}: {line.strip()}"
        for name in CONTROLLERS
        for number, line in enumerate((WSGI / name).read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


def test_message_templates_use_the_url_variables() -> None:
    err = from_domain(e.Forbidden("no"), "image_members", "create", variables={"image_id": "i1"})
    assert err.status_int == 403
    assert "Not allowed to create members for image i1." in str(err)
    denied = from_domain(e.PolicyDenied("add_member"), "image_members", "create",
                         variables={"image_id": "i1"})
    assert "You are not authorized to complete add_member action." in str(denied)
    quota = from_domain(e.QuotaExceeded("too many"), "image_tags", "update",
                        variables={"image_id": "i1"})
    assert quota.status_int == 413
    assert "Image tag limit exceeded for image i1: too many:" in str(quota)


def test_a_template_can_leave_the_body_bare() -> None:
    bare = from_domain(e.NotFound("gone"), "images", "get_task_info",
                       variables={"image_id": "i1"})
    assert bare.status_int == 404 and "gone" not in str(bare)
