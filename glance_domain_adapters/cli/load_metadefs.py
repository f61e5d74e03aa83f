"""``glance-domain db load-metadefs | unload-metadefs | export-metadefs``: metadata
definition files in and out of the database.

The files are Glance's format (one namespace per ``*.json`` file, as ``glance-manage db
load_metadefs`` reads from ``/etc/glance/metadefs``), so an operator's existing definitions
load unchanged. Each file is validated against the namespace schema and created through the
MetadefService as the command's caller (the local admin by default), in one transaction per
namespace. A namespace already in the database is skipped, or with ``--merge`` completed with
the properties, objects, tags and resource type associations it lacks (existing ones are left
as they are). One bad file is reported and the others still load; the exit code is then 1.

``unload-metadefs`` empties every metadata definition table (protected namespaces and
resource types included), as Glance's does; ``export-metadefs`` writes one file per namespace
in the same format. ``db upgrade`` loads the standard definitions shipped with glance-domain
(:data:`glance_domain_adapters.metadefs.STANDARD_DIR`) into a new database.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from glance_domain.errors import DomainError, Duplicate, NotFound
from glance_domain.metadefs.model import NamespaceContents
from glance_domain.metadefs.service import MetadefService
from glance_domain_adapters.cli.errors import CliError
from glance_domain_adapters.cli.options import command_parser
from glance_domain_adapters.cli.output import print_record, print_records
from glance_domain_adapters.cli.runtime import Runtime

DEFAULT_PATH = "/etc/glance/metadefs"
COLUMNS = ("file", "namespace", "result")


def register(db: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for name in ("load-metadefs", "load_metadefs"):
        load = command_parser(
            db, name,
            "load metadata definition files (Glance's JSON format) into the database")
        load.add_argument("folder", nargs="?", default=None, metavar="DIR",
                          help=f"folder of *.json namespace files, or one file (default: "
                               f"--path, else {DEFAULT_PATH})")
        load.add_argument("--path", default=None, metavar="DIR",
                          help="the same as DIR (glance-manage's spelling)")
        load.add_argument("--standard", action="store_true",
                          help="load the standard definitions shipped with glance-domain")
        load.add_argument("--merge", action="store_true",
                          help="add what a namespace already in the database lacks, instead "
                               "of skipping it")
        load.set_defaults(handler=run_load_metadefs)
    for name in ("unload-metadefs", "unload_metadefs"):
        unload = command_parser(db, name, "remove every metadata definition from the database")
        unload.set_defaults(handler=run_unload_metadefs)
    for name in ("export-metadefs", "export_metadefs"):
        export = command_parser(db, name, "write every namespace to DIR as a *.json file "
                                          "(Glance's format)")
        export.add_argument("folder", nargs="?", default=None, metavar="DIR",
                            help=f"where to write the files (default: --path, else "
                                 f"{DEFAULT_PATH})")
        export.add_argument("--path", default=None, metavar="DIR",
                            help="the same as DIR (glance-manage's spelling)")
        export.set_defaults(handler=run_export_metadefs)


def _folder(runtime: Runtime) -> Path:
    return Path(runtime.args.folder or runtime.args.path or DEFAULT_PATH)


def definition_files(path: Path) -> list[Path]:
    """The ``*.json`` files of a folder (sorted), or ``path`` itself when it is a file."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise CliError(f"{path} is not a folder of metadata definition files")
    files = sorted(p for p in path.glob("*.json") if p.is_file())
    if not files:
        raise CliError(f"no *.json files in {path}")
    return files


def run_load_metadefs(runtime: Runtime) -> int:
    from glance_domain_adapters.metadefs import STANDARD_DIR

    files = definition_files(STANDARD_DIR if runtime.args.standard else _folder(runtime))
    service = runtime.gateway.metadef_service(runtime.context())
    results = [load_file(service, path, merge=runtime.args.merge) for path in files]
    print_records(results, fmt=runtime.fmt, columns=runtime.columns, default_columns=COLUMNS,
                  out=runtime.stdout)
    return 1 if any(r["result"].startswith("error") for r in results) else 0


def load_standard_if_empty(runtime: Runtime) -> str | None:
    """Load the standard definitions when the database has no namespace at all (a new
    database); a summary such as ``"loaded 9 namespaces"``, or None when it had some."""
    from glance_domain_adapters.metadefs import STANDARD_DIR, standard_service

    files = sorted(STANDARD_DIR.glob("*.json"))
    service = standard_service(runtime.conf)
    if not files or service.repository.list_namespaces():
        return None
    results = [load_file(service, path, merge=False) for path in files]
    failed = [r for r in results if r["result"].startswith("error")]
    if failed:  # a broken shipped file is a bug of ours: say so, loudly
        raise CliError("standard metadata definitions: " + "; ".join(
            f"{r['file']}: {r['result']}" for r in failed))
    return f"loaded {len(results)} standard namespaces"


def run_unload_metadefs(runtime: Runtime) -> int:
    from glance_domain_adapters import config
    from glance_domain_adapters.db.metadef_admin import unload_all

    removed = unload_all(config.database_url(runtime.conf))
    print_record({"namespaces_removed": removed}, fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    return 0


def run_export_metadefs(runtime: Runtime) -> int:
    folder = _folder(runtime)
    if not folder.is_dir():
        raise CliError(f"{folder} is not a folder")
    service = runtime.gateway.metadef_service(runtime.context())
    from glance_domain.metadefs.model import NamespaceQuery

    rows = []
    for namespace, _associations in service.list_namespaces(NamespaceQuery(limit=None)):
        document = export_document(service, namespace.namespace)
        target = folder / (file_name(namespace.namespace) + ".json")
        target.write_text(json.dumps(document, indent=4, sort_keys=False) + "\n",
                          encoding="utf-8")
        rows.append({"file": target.name, "namespace": namespace.namespace,
                     "result": "exported"})
    print_records(rows, fmt=runtime.fmt, columns=runtime.columns, default_columns=COLUMNS,
                  out=runtime.stdout)
    return 0


def file_name(namespace: str) -> str:
    """A file name for a namespace: ``OS::Compute::Libvirt`` -> ``OS-Compute-Libvirt``."""
    return re.sub(r"[^A-Za-z0-9_.]+", "-", namespace).strip("-.") or "namespace"


def export_document(service: MetadefService, name: str) -> dict[str, Any]:
    """A namespace as a definitions file (what ``load-metadefs`` reads back): its attributes,
    associations, properties, objects and tags, without timestamps and links."""
    from glance_domain_adapters.wsgi.metadefs.views import (
        association_view,
        detail_view,
        object_view,
    )

    detail = service.get_namespace(name)
    document = detail_view(detail)
    for key in ("created_at", "updated_at", "self", "schema"):
        document.pop(key, None)
    if detail.associations:
        document["resource_type_associations"] = [
            association_view(a, times=False) for a in detail.associations]
    if detail.objects:
        objects = []
        for obj in detail.objects:
            view = object_view(obj)
            for key in ("created_at", "updated_at", "self", "schema"):
                view.pop(key, None)
            objects.append(view)
        document["objects"] = objects
    return document


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
