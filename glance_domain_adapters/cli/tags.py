"""``glance-domain image tag add | remove``: an image's tags."""

from __future__ import annotations

import argparse

from glance_domain_adapters.cli import lookup
from glance_domain_adapters.cli.options import command_parser
from glance_domain_adapters.cli.output import print_record
from glance_domain_adapters.cli.runtime import Runtime
from glance_domain_adapters.cli.views import image_view


def register(tag: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    add = command_parser(tag, "add", "add tags to an image")
    add.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    add.add_argument("tags", metavar="TAG", nargs="+")
    add.set_defaults(handler=run_add)
    remove = command_parser(tag, "remove", "remove tags from an image")
    remove.add_argument("image_id", metavar="IMAGE", help=lookup.IMAGE_HELP)
    remove.add_argument("tags", metavar="TAG", nargs="+")
    remove.set_defaults(handler=run_remove)


def run_add(runtime: Runtime) -> int:
    return _change_tags(runtime, add=True)


def run_remove(runtime: Runtime) -> int:
    return _change_tags(runtime, add=False)


def _change_tags(runtime: Runtime, *, add: bool) -> int:
    """Add or remove each tag in turn, then print the image as the last change left it."""
    service = runtime.service()
    change = service.add_tag if add else service.remove_tag
    image = lookup.find_image(service, runtime.args.image_id)
    image_id, tags = image.id, runtime.args.tags
    for tag in tags:
        image = change(image_id, tag)
    print_record(image_view(image), fmt=runtime.fmt, columns=runtime.columns,
                 out=runtime.stdout)
    return 0
