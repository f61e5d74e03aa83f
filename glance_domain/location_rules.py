"""Which location URLs a caller may give an image, and their one spelling.

Every path that sets a location from a caller's input (a PATCH of ``/locations``, the add-location
API, imports and legacy tasks that name a URL) goes through :func:`settable_url` before any store
sees the URL:

- URLs of a *restricted* scheme are refused, whoever asks: ``file``, ``filesystem`` and
  ``swift+config`` (Glance's restricted schemes: they name files of the host, another image's
  data among them, or credentials of the service's configuration), plus every scheme a
  configured store driver declares restricted (``glance_store_plugins.Store.restricted_schemes``).
- The URL is normalised (:func:`normalise_url`): the scheme in lower case, ``.`` segments
  and (outside http) repeated slashes removed; ``..`` segments, percent-encoded dots and
  control characters are refused. Two spellings of one object therefore compare equal, which
  the "one image per location" rule (:mod:`glance_domain.layers.store`) relies on.

Refusals are ``InvalidInput("Invalid location")`` (Glance's text for a location it refuses).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from glance_domain.errors import InvalidInput

#: Glance's restricted location schemes, refused whatever the configured stores say.
RESTRICTED_SCHEMES = frozenset({"file", "filesystem", "swift+config"})
#: Longest location URL accepted (the width Glance's API documents for a location).
MAX_URL_LENGTH = 255

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_ENCODED_DOT = re.compile(r"%2e", re.IGNORECASE)


def scheme_of(url: str) -> str:
    """The URL's scheme in lower case ('' when it has none)."""
    match = _SCHEME.match(url) if isinstance(url, str) else None
    return match.group(1).lower() if match else ""


def is_restricted(url: str, restricted: Iterable[str] = ()) -> bool:
    """Whether ``url`` has a restricted scheme (Glance's, or one of ``restricted``)."""
    scheme = scheme_of(url)
    return scheme in RESTRICTED_SCHEMES or scheme in {s.lower() for s in restricted}


def normalise_url(url: str) -> str:
    """``url`` in its one spelling (see the module docstring); InvalidInput when it cannot be
    normalised safely.

    >>> normalise_url("S3://host/bucket/./images//abc")
    's3://host/bucket/images/abc'
    >>> normalise_url("http://example.com/a//b/./c?x=1")
    'http://example.com/a//b/c?x=1'
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise InvalidInput("Invalid location")
    if _CONTROL.search(url) or not url.isprintable():
        raise InvalidInput("Invalid location")
    scheme = scheme_of(url)
    if not scheme:
        raise InvalidInput("Invalid location")
    rest = url[len(scheme) + 1:]
    suffix = ""
    for mark in ("#", "?"):
        rest, sep, tail = rest.partition(mark)
        if sep:
            suffix = sep + tail + suffix
    authority = None
    if rest.startswith("//"):
        authority, slash, path = rest[2:].partition("/")
        path = slash + path
    else:
        path = rest
    if _ENCODED_DOT.search(path):
        raise InvalidInput("Invalid location")
    keep_empty = scheme in ("http", "https")
    segments = path.split("/")
    kept: list[str] = []
    for index, segment in enumerate(segments):
        if segment == "..":
            raise InvalidInput("Invalid location")
        if segment == ".":
            if index == len(segments) - 1:
                kept.append("")  # "a/." names the directory "a/"
            continue
        if segment == "" and 0 < index < len(segments) - 1 and not keep_empty:
            continue
        kept.append(segment)
    path = "/".join(kept)
    prefix = scheme + ":" + ("//" + authority if authority is not None else "")
    return prefix + path + suffix


def settable_url(url: object, restricted: Iterable[str] = ()) -> str:
    """The normalised ``url`` if a caller may give it to an image as a location, else
    InvalidInput("Invalid location")."""
    if not isinstance(url, str):
        raise InvalidInput("Invalid location")
    normal = normalise_url(url)
    if is_restricted(normal, restricted):
        raise InvalidInput("Invalid location")
    return normal


__all__ = [
    "MAX_URL_LENGTH", "RESTRICTED_SCHEMES", "is_restricted", "normalise_url", "scheme_of",
    "settable_url",
]
