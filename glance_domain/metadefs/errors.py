"""Domain errors of metadata definitions, with the messages Glance shows for them."""

from __future__ import annotations

from glance_domain.errors import Duplicate, Forbidden, NotFound


class NamespaceNotFound(NotFound):
    """The namespace does not exist (``name`` is the namespace asked for)."""

    def __init__(self, message: str = "", name: str = "") -> None:
        super().__init__(message)
        self.name = name


class NamespaceHidden(NamespaceNotFound):
    """The namespace exists but is neither public nor the caller's project's."""


class PolicyHidden(NotFound):
    """A rule refused an operation on a namespace the caller may not even get (a bare 404)."""


def namespace_not_found(name: str) -> NamespaceNotFound:
    return NamespaceNotFound(f"Metadata definition namespace={name} was not found.", name)


def duplicate_namespace(name: str) -> Duplicate:
    return Duplicate(f"The metadata definition namespace={name} already exists.")


def child_not_found(kind: str, name: str, namespace: str) -> NotFound:
    """``kind``: property, object or tag (Glance's repository messages)."""
    label = {"property": "property", "object": "metadata object", "tag": "metadata tag"}[kind]
    return NotFound(f"Could not find {label} {name}")


def duplicate_child(kind: str, name: str, namespace: str) -> Duplicate:
    if kind == "tag":
        return Duplicate(
            f"A metadata tag with name={name} already exists in namespace={namespace}. "
            "(Please note that metadata tag names are case insensitive)."
        )
    return Duplicate(
        f"A metadata definition {kind} with name={name} already exists in "
        f"namespace={namespace}."
    )


def duplicate_on_update(kind: str, name: str, namespace: str) -> Duplicate:
    """Renaming a namespace, property, object or tag onto an existing name: Glance's update
    wording (its repository words a duplicate differently on update than on create)."""
    if kind == "namespace":
        return Duplicate("Invalid update. It would result in a duplicate metadata definition "
                         f"namespace with the same name of {name}")
    if kind == "tag":
        return duplicate_child("tag", name, namespace)
    return Duplicate(f"Invalid update. It would result in a duplicate metadata definition "
                     f"{kind} with the same name={name} in namespace={namespace}.")


def association_not_found(name: str, namespace: str) -> NotFound:
    return NotFound(
        f"The metadata definition resource-type association of resource-type={name} to "
        f"namespace={namespace}, was not found."
    )


def duplicate_association(name: str, namespace: str) -> Duplicate:
    return Duplicate(
        f"The metadata definition resource-type association of resource-type={name} to "
        f"namespace={namespace} already exists."
    )


def protected(kind: str, name: str) -> Forbidden:
    """Deleting something of (or in) a protected namespace."""
    label = "resource-type-association" if kind == "association" else kind
    return Forbidden(
        f"Metadata definition {label} {name} is protected and cannot be deleted."
    )
