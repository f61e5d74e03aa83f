"""Rendering results: boxed tables for people, JSON or bare values for scripts.

``-f table`` (default) draws the tables glanceclient users know (``Property | Value`` for one
object, one row per object for lists); ``-f json`` prints the full records as JSON; ``-f value``
prints bare values, one object per line, for shell scripts (``ID=$(... -f value -c id)``).
``-c/--column`` keeps only the named fields, in that order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from glance_domain_adapters.cli.errors import EXIT_USAGE, CliError

FORMATS = ("table", "json", "value")

_LABELS = {"id": "ID", "os_hash_algo": "OS Hash Algo", "os_hash_value": "OS Hash Value"}


def label(key: str) -> str:
    """A column heading for a record key: ``disk_format`` -> ``Disk Format``."""
    return _LABELS.get(key, key.replace("_", " ").title())


def _normalise(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def select_columns(
    available: Sequence[str], wanted: Sequence[str] | None, default: Sequence[str]
) -> list[str]:
    """The keys to show: ``wanted`` (by key or heading, any case) or ``default``."""
    if not wanted:
        return list(default)
    by_name = {_normalise(k): k for k in available}
    by_name.update({_normalise(label(k)): k for k in available})
    chosen = []
    for name in wanted:
        key = by_name.get(_normalise(name))
        if key is None:
            raise CliError(
                f"No column {name!r}; choose from: {', '.join(available)}", EXIT_USAGE
            )
        chosen.append(key)
    return chosen


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    if isinstance(value, Mapping):
        return json.dumps(dict(value), sort_keys=True)
    return str(value)


def _boxed(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "|" + "|".join(f" {c:<{w}} " for c, w in zip(cells, widths, strict=True)) + "|"

    return "\n".join([rule, line(headers), rule, *(line(r) for r in rows), rule])


def print_record(
    record: Mapping[str, Any], *, fmt: str, columns: Sequence[str] | None, out: TextIO
) -> None:
    """Show one object (an image, a member)."""
    keys = select_columns(list(record), columns, sorted(record))
    if fmt == "json":
        out.write(json.dumps({k: record[k] for k in keys}, indent=2, sort_keys=not columns))
        out.write("\n")
    elif fmt == "value":
        out.write(" ".join(_cell(record[k]) for k in keys) + "\n")
    else:
        out.write(_boxed(["Property", "Value"], [[k, _cell(record[k])] for k in keys]) + "\n")


def print_records(
    records: Sequence[Mapping[str, Any]],
    *,
    fmt: str,
    columns: Sequence[str] | None,
    default_columns: Sequence[str],
    out: TextIO,
) -> None:
    """Show a list of objects, one row each; JSON keeps every field unless ``-c`` narrows it."""
    available = list(records[0]) if records else list(default_columns)
    if fmt == "json":
        keys = select_columns(available, columns, available) if columns else None
        data = [dict(r) if keys is None else {k: r[k] for k in keys} for r in records]
        out.write(json.dumps(data, indent=2) + "\n")
        return
    keys = select_columns(available, columns, default_columns)
    if fmt == "value":
        for record in records:
            out.write(" ".join(_cell(record.get(k)) for k in keys) + "\n")
        return
    rows = [[_cell(record.get(k)) for k in keys] for record in records]
    out.write(_boxed([label(k) for k in keys], rows) + "\n")
