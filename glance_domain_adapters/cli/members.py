"""``glance-domain image member add | list | show | set | remove``: sharing images."""

from __future__ import annotations

import argparse
from typing import Any

from glance_domain.model.member import MEMBER_STATUSES
from glance_domain_adapters.cli import lookup
from glance_domain_adapters.cli.options import command_parser
from glance_domain_adapters.cli.output import print_record, print_records
from glance_domain_adapters.cli.runtime import Runtime
from glance_domain_adapters.cli.views import member_view

LIST_COLUMNS = ("image_id", "member_id", "status")


def register(member: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    add = command_parser(member, "add", "share an image with a project (status pending)")
    add.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    add.add_argument("member_id", metavar="PROJECT_ID")
    add.set_defaults(handler=run_add)
    listing = command_parser(member, "list", "list the projects an image is shared with")
    listing.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    listing.set_defaults(handler=run_list)
    show = command_parser(member, "show", "show one member of an image")
    show.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    show.add_argument("member_id", metavar="PROJECT_ID")
    show.set_defaults(handler=run_show)
    set_ = command_parser(member, "set", "accept or reject a shared image (as the member)")
    set_.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    set_.add_argument("member_id", metavar="PROJECT_ID")
    set_.add_argument("status", choices=MEMBER_STATUSES)
    set_.set_defaults(handler=run_set)
    remove = command_parser(member, "remove", "stop sharing an image with a project")
    remove.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    remove.add_argument("member_id", metavar="PROJECT_ID")
    remove.set_defaults(handler=run_remove)


def _image(runtime: Runtime) -> tuple[Any, str]:
    """The caller's service and the id of the image the command names."""
    service = runtime.service()
    return service, lookup.image_id(service, runtime.args.image_id)


def _show(runtime: Runtime, member: object) -> None:
    print_record(member_view(member), fmt=runtime.fmt,  # type: ignore[arg-type]
                 columns=runtime.columns, out=runtime.stdout)


def run_add(runtime: Runtime) -> int:
    args = runtime.args
    service, image_id = _image(runtime)
    _show(runtime, service.add_member(image_id, args.member_id))
    return 0


def run_list(runtime: Runtime) -> int:
    service, image_id = _image(runtime)
    members = service.list_members(image_id)
    print_records([member_view(m) for m in members], fmt=runtime.fmt, columns=runtime.columns,
                  default_columns=LIST_COLUMNS, out=runtime.stdout)
    return 0


def run_show(runtime: Runtime) -> int:
    args = runtime.args
    service, image_id = _image(runtime)
    _show(runtime, service.get_member(image_id, args.member_id))
    return 0


def run_set(runtime: Runtime) -> int:
    args = runtime.args
    service, image_id = _image(runtime)
    _show(runtime, service.update_member(image_id, args.member_id, args.status))
    return 0


def run_remove(runtime: Runtime) -> int:
    args = runtime.args
    service, image_id = _image(runtime)
    service.remove_member(image_id, args.member_id)
    return 0
