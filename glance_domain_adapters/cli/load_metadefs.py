"""``glance-domain db load-metadefs``: load metadata definition files into the database.

The files are Glance's format (one namespace per ``*.json`` file, as ``glance-manage db
load_metadefs`` reads from ``/etc/glance/metadefs``), so an operator's existing definitions
load unchanged. Each file is validated against the namespace schema and created through the
MetadefService as the command's caller (the local admin by default), in one transaction per
namespace. A namespace already in the database is skipped, or with ``--merge`` completed with
the properties, objects, tags and resource type associations it lacks (existing ones are left
as they are). One bad file is reported and the others still load; the exit code is then 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from glance_domain.errors import DomainError, Duplicate, NotFound
from glance_domain.metadefs.model import NamespaceContents
from glance_domain.metadefs.service import MetadefService
from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser
from glance_domain_adapters.cli.output import print_records
from glance_domain_adapters.cli.runtime import Runtime

DEFAULT_PATH = "/etc/glance/metadefs"
COLUMNS = ("file", "namespace", "result")


def register(db: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    load = command_parser(
        db, "load-metadefs",
        "load metadata definition files (Glance's JSON format) into the database")
    load.add_argument("--path", default=DEFAULT_PATH, metavar="DIR",
                      help=f"folder of *.json namespace files (default: {DEFAULT_PATH})")
    load.add_argument("--merge", action="store_true",
                      help="add what a namespace already in the database lacks, instead of "
                           "skipping it")
    load.set_defaults(handler=run_load_metadefs)


def run_load_metadefs(runtime: Runtime) -> int:
    folder = Path(runtime.args.path)
    if not folder.is_dir():
        raise CliError(f"{folder} is not a folder of metadata definition files")
    files = sorted(p for p in folder.glob("*.json") if p.is_file())
    if not files:
        raise CliError(f"no *.json files in {folder}")
    service = runtime.gateway.metadef_service(runtime.context())
    results = [load_file(service, path, merge=runtime.args.merge) for path in files]
    print_records(results, fmt=runtime.fmt, columns=runtime.columns, default_columns=COLUMNS,
                  out=runtime.stdout)
    return 1 if any(r["result"].startswith("error") for r in results) else 0


def load_file(service: MetadefService, path: Path, *, merge: bool) -> dict[str, Any]:
    """Load one file; a row saying what happened (``created``, ``skipped``, ``merged``,
    ``error: ...``). Never raises for a bad file or a refused write."""
    from glance_domain_adapters.wsgi.metadefs.documents import read_namespace_file

    row: dict[str, Any] = {"file": path.name, "namespace": None, "result": ""}
    try:
        namespace, contents = read_namespace_file(path)
        row["namespace"] = namespace.namespace
        if not _exists(service, namespace.namespace):
            service.create_namespace(namespace, contents)
            row["result"] = "created"
        elif merge:
            added = _merge(service, namespace.namespace, contents)
            row["result"] = f"merged ({added} added)"
        else:
            row["result"] = "skipped (already in the database)"
    except DomainError as exc:
        row["result"] = f"error: {exc.message or type(exc).__name__}"
    return row


def _exists(service: MetadefService, name: str) -> bool:
    try:
        service.namespace(name)
    except NotFound:
        return False
    return True


def _merge(service: MetadefService, name: str, contents: NamespaceContents) -> int:
    """Create each child the namespace lacks; the number created."""
    have_properties = {p.name for p in service.list_properties(name)}
    have_objects = {o.name for o in service.list_objects(name)}
    have_tags = {t.name for t in service.list_tags(name)}
    have_associations = {a.name for a in service.list_associations(name)}
    added = 0
    for prop in contents.properties:
        if prop.name not in have_properties:
            service.create_property(prop)
            added += 1
    for obj in contents.objects:
        if obj.name not in have_objects:
            service.create_object(obj)
            added += 1
    for tag in contents.tags:
        if tag.name not in have_tags:
            try:
                service.create_tag(name, tag.name)
            except Duplicate:  # tags compare case-insensitively on some databases
                continue
            added += 1
    for association in contents.associations:
        if association.name not in have_associations:
            service.create_association(association)
            added += 1
    return added
