"""``glance-domain image create | list | show | update | delete | deactivate | reactivate``.

Options are spelled as python-glanceclient spells them (``--disk-format``, ``--property k=v``,
``--property-filter``, ``--sort-key``/``--sort-dir``, ``--visibility``, ``--tag``...).
"""

from __future__ import annotations

import argparse
from typing import Any

from glance_domain.changes import Change
from glance_domain.model.image import VISIBILITIES
from glance_domain.model.member import MEMBER_STATUSES
from glance_domain.query import SORTABLE_KEYS, Filter, ImageQuery, SortKey
from glance_domain_adapters.cli import image_data, lookup
from glance_domain_adapters.cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError, describe
from glance_domain_adapters.cli.options import (
    boolean,
    command_parser,
    key_value,
    non_negative_int,
    positive_int,
)
from glance_domain_adapters.cli.output import print_record, print_records
from glance_domain_adapters.cli.runtime import Runtime
from glance_domain_adapters.cli.views import image_view

LIST_COLUMNS = ("id", "name", "status")
LONG_LIST_COLUMNS = (
    "id", "name", "disk_format", "container_format", "size", "checksum", "status",
    "visibility", "protected", "owner", "tags",
)

#: Writable core attributes and the option that sets each (shared by create and update).
_ATTRIBUTE_OPTIONS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("name", "--name", {"metavar": "NAME"}),
    ("disk_format", "--disk-format", {"metavar": "FORMAT"}),
    ("container_format", "--container-format", {"metavar": "FORMAT"}),
    ("visibility", "--visibility", {"choices": VISIBILITIES}),
    ("protected", "--protected", {"type": boolean, "metavar": "[True|False]"}),
    ("os_hidden", "--hidden", {"type": boolean, "metavar": "[True|False]"}),
    ("min_disk", "--min-disk", {"type": non_negative_int, "metavar": "GB"}),
    ("min_ram", "--min-ram", {"type": non_negative_int, "metavar": "MB"}),
    ("owner", "--owner", {"metavar": "PROJECT"}),
)

_INT_FIELDS = frozenset({"size", "virtual_size", "min_disk", "min_ram"})
_BOOL_FIELDS = frozenset({"protected", "os_hidden"})
_OPERATORS = ("neq", "in", "gte", "gt", "lte", "lt", "eq")


def register(image: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    _register_create(image)
    _register_list(image)
    show = command_parser(image, "show", "show an image's attributes and properties")
    show.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    show.set_defaults(handler=run_show)
    _register_update(image)
    delete = command_parser(image, "delete", "delete images and their data")
    delete.add_argument("image_ids", metavar="IMAGE", nargs="+", help=lookup.IMAGE_HELP)
    delete.set_defaults(handler=run_delete)
    for name, verb in (("deactivate", "deactivate"), ("reactivate", "reactivate")):
        parser = command_parser(image, name, f"{verb} an image")
        parser.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
        parser.set_defaults(handler=run_status_change, status_change=name)


def _add_attribute_options(parser: argparse.ArgumentParser) -> None:
    for attribute, flag, kwargs in _ATTRIBUTE_OPTIONS:
        parser.add_argument(flag, dest=attribute, default=None, **kwargs)
    parser.add_argument(
        "--property", dest="properties", action="append", type=key_value, default=[],
        metavar="KEY=VALUE", help="set an extra property (repeatable)",
    )


def _register_create(image: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(image, "create", "create an image, optionally uploading its data")
    parser.add_argument("--id", dest="id", metavar="UUID", help="the new image's id")
    _add_attribute_options(parser)
    parser.add_argument("--tags", nargs="+", default=[], metavar="TAG", help="tags to set")
    parser.add_argument("--file", metavar="PATH", help="upload the data from this file")
    parser.add_argument(
        "--keep-on-failure", action="store_true",
        help="keep the new image (queued) when uploading --file fails (default: delete it)",
    )
    image_data.add_transfer_options(parser)
    parser.set_defaults(handler=run_create)


def _register_list(image: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(image, "list", "list the images the caller may see")
    parser.add_argument("--limit", type=positive_int, metavar="N",
                        help="show at most N images (default: all)")
    parser.add_argument("--page-size", type=positive_int, default=100, metavar="N",
                        help="images fetched per page (default: 100)")
    parser.add_argument("--marker", metavar="IMAGE_ID", help="start after this image")
    parser.add_argument("--visibility", choices=(*VISIBILITIES, "all"))
    parser.add_argument("--member-status", choices=(*MEMBER_STATUSES, "all"))
    parser.add_argument("--owner", metavar="PROJECT", help="only images of this owner")
    parser.add_argument("--tag", dest="tags", action="append", default=[], metavar="TAG",
                        help="only images with this tag (repeatable: all must match)")
    parser.add_argument(
        "--property-filter", dest="property_filters", action="append", type=key_value,
        default=[], metavar="KEY=VALUE",
        help="filter on an attribute or property; VALUE may be OP:VALUE with OP one of "
        "eq, neq, in (comma list), gt, gte, lt, lte (repeatable)",
    )
    parser.add_argument("--hidden", type=boolean, default=False, metavar="[True|False]",
                        help="list only hidden images (True) or only visible ones (default)")
    parser.add_argument("--sort-key", dest="sort_keys", action="append", default=[],
                        choices=SORTABLE_KEYS, help="sort by this attribute (repeatable)")
    parser.add_argument("--sort-dir", dest="sort_dirs", action="append", default=[],
                        choices=("asc", "desc"), help="direction of each --sort-key")
    parser.add_argument("--sort", metavar="KEY[:DIR][,KEY[:DIR]...]",
                        help="sort keys and directions in one option (instead of --sort-key)")
    parser.add_argument("--long", action="store_true", help="show more columns")
    parser.set_defaults(handler=run_list)


def _register_update(image: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = command_parser(image, "update", "change an image's attributes and properties")
    parser.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    _add_attribute_options(parser)
    parser.add_argument(
        "--remove-property", dest="remove_properties", action="append", default=[],
        metavar="KEY", help="remove an extra property (repeatable)",
    )
    parser.set_defaults(handler=run_update)


# -- handlers --------------------------------------------------------------------------------
def _show(runtime: Runtime, image: Any) -> None:
    print_record(image_view(image), fmt=runtime.fmt, columns=runtime.columns, out=runtime.stdout)


def run_create(runtime: Runtime) -> int:
    args = runtime.args
    attributes: dict[str, Any] = {}
    if args.id is not None:
        attributes["id"] = args.id
    for attribute, _flag, _kwargs in _ATTRIBUTE_OPTIONS:
        value = getattr(args, attribute)
        if value is not None:
            attributes[attribute] = value
    if args.tags:
        attributes["tags"] = list(args.tags)
    for key, value in args.properties:
        if key in attributes:
            raise CliError(f"--property {key}=... sets {key!r} a second time", EXIT_USAGE)
        attributes[key] = value
    source = image_data.open_source(runtime, args.file) if args.file is not None else None
    service = runtime.service()
    try:
        image = service.create_image(**attributes)
        if source is not None:
            image = _upload_or_discard(runtime, service, image, source)
    finally:
        if source is not None:
            source.close()
    _show(runtime, image)
    return 0


def _upload_or_discard(runtime: Runtime, service: Any, image: Any,
                       source: image_data.Source) -> Any:
    """Upload ``source`` into the image just created; if that fails, delete the image (a
    queued image left behind by a failed ``create --file`` only confuses) unless the user
    asked to keep it, and say which it was."""
    try:
        return image_data.upload(runtime, service, image.id, source)
    except BaseException:
        if runtime.args.keep_on_failure:
            runtime.stderr.write(f"glance-domain: the upload failed; image {image.id} is kept "
                                 "(--keep-on-failure): 'glance-domain image upload' can retry\n")
            raise
        try:
            service.delete_image(image.id)
        except Exception as exc:  # the upload's failure is the one to report
            message, _code = describe(exc)
            runtime.stderr.write(f"glance-domain: could not delete image {image.id} after the "
                                 f"failed upload: {message}\n")
        else:
            runtime.stderr.write(f"glance-domain: the upload failed; image {image.id} was "
                                 "deleted (--keep-on-failure keeps it)\n")
        raise


def _typed(field: str, text: str) -> Any:
    if field in _INT_FIELDS:
        try:
            return int(text)
        except ValueError:
            raise CliError(f"{field} filter needs a whole number, got {text!r}",
                           EXIT_USAGE) from None
    if field in _BOOL_FIELDS:
        try:
            return boolean(text)
        except argparse.ArgumentTypeError as exc:
            raise CliError(f"{field} filter: {exc}", EXIT_USAGE) from None
    return text


def property_filter(key: str, text: str) -> Filter:
    """``--property-filter`` KEY=VALUE to a Filter (``size_min``/``size_max`` as Glance does)."""
    if key in ("size_min", "size_max"):
        return Filter("size", "gte" if key == "size_min" else "lte", _typed("size", text))
    op, sep, rest = text.partition(":")
    if sep and op in _OPERATORS:
        if op == "in":
            return Filter(key, "in", tuple(_typed(key, v) for v in rest.split(",")))
        return Filter(key, op, _typed(key, rest))  # type: ignore[arg-type]
    return Filter(key, "eq", _typed(key, text))


def sort_keys(args: argparse.Namespace) -> tuple[SortKey, ...]:
    """The sort order from ``--sort`` or ``--sort-key``/``--sort-dir``, ending with ``id``."""
    if args.sort and args.sort_keys:
        raise CliError("use either --sort or --sort-key/--sort-dir, not both", EXIT_USAGE)
    keys: list[SortKey] = []
    if args.sort:
        for item in args.sort.split(","):
            key, _, direction = item.strip().partition(":")
            direction = direction or "desc"
            if key not in SORTABLE_KEYS or direction not in ("asc", "desc"):
                raise CliError(f"bad sort item {item!r}: keys are {', '.join(SORTABLE_KEYS)}; "
                               "directions asc or desc", EXIT_USAGE)
            keys.append(SortKey(key, "asc" if direction == "asc" else "desc"))
    else:
        dirs = list(args.sort_dirs)
        if len(dirs) > max(len(args.sort_keys), 1):
            raise CliError("more --sort-dir than --sort-key options", EXIT_USAGE)
        if not args.sort_keys:
            keys = [SortKey("created_at", dirs[0] if dirs else "desc")]
        for index, key in enumerate(args.sort_keys):
            direction = dirs[index] if index < len(dirs) else (dirs[-1] if dirs else "desc")
            keys.append(SortKey(key, "asc" if direction == "asc" else "desc"))
    if not any(k.key == "id" for k in keys):
        keys.append(SortKey("id", keys[-1].direction))
    return tuple(keys)


def build_query(args: argparse.Namespace, *, limit: int, marker: str | None) -> ImageQuery:
    filters = [property_filter(k, v) for k, v in args.property_filters]
    if args.owner is not None:
        filters.append(Filter("owner", "eq", args.owner))
    return ImageQuery(
        filters=tuple(filters),
        tags=tuple(args.tags),
        visibility=args.visibility,
        member_status=args.member_status or "accepted",
        os_hidden=args.hidden,
        sort=sort_keys(args),
        limit=limit,
        marker=marker,
    )


def run_list(runtime: Runtime) -> int:
    args = runtime.args
    service = runtime.service()
    wanted = args.limit
    marker = args.marker
    found: list[Any] = []
    while wanted is None or len(found) < wanted:
        page_size = args.page_size if wanted is None else min(args.page_size, wanted - len(found))
        page = service.list_images(build_query(args, limit=page_size, marker=marker))
        found.extend(page)
        if len(page) < page_size or not page:
            break
        marker = page[-1].id
    print_records(
        [image_view(i) for i in found],
        fmt=runtime.fmt,
        columns=runtime.columns,
        default_columns=LONG_LIST_COLUMNS if args.long else LIST_COLUMNS,
        out=runtime.stdout,
    )
    return 0


def run_show(runtime: Runtime) -> int:
    _show(runtime, lookup.find_image(runtime.service(), runtime.args.image_id))
    return 0


def run_update(runtime: Runtime) -> int:
    args = runtime.args
    changes: list[Change] = []
    for attribute, _flag, _kwargs in _ATTRIBUTE_OPTIONS:
        value = getattr(args, attribute)
        if value is not None:
            changes.append(Change("replace", (attribute,), value))
    for key, value in args.properties:
        changes.append(Change("add", (key,), value))
    for key in args.remove_properties:
        changes.append(Change("remove", (key,)))
    service = runtime.service()
    image = lookup.find_image(service, args.image_id)
    if changes:
        image = service.update_image(image.id, changes)
    _show(runtime, image)
    return 0


def run_delete(runtime: Runtime) -> int:
    service = runtime.service()
    failed = 0
    for image_id in runtime.args.image_ids:
        try:
            service.delete_image(lookup.image_id(service, image_id))
        except Exception as exc:  # report each failure, delete the rest, then fail
            message, _code = describe(exc)
            if f"'{image_id}'" not in message:  # say which of the images failed
                message = f"{image_id}: {message}"
            runtime.stderr.write(f"glance-domain: error: {message}\n")
            failed += 1
    if failed and len(runtime.args.image_ids) > 1:
        runtime.stderr.write(
            f"glance-domain: error: {failed} of {len(runtime.args.image_ids)} images "
            "could not be deleted\n"
        )
    return EXIT_FAILURE if failed else 0


def run_status_change(runtime: Runtime) -> int:
    service = runtime.service()
    image_id = lookup.image_id(service, runtime.args.image_id)
    if runtime.args.status_change == "deactivate":
        image = service.deactivate_image(image_id)
    else:
        image = service.reactivate_image(image_id)
    _show(runtime, image)
    return 0
