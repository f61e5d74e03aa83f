#!/usr/bin/env python3
"""Differential conformance checker: real Glance vs glance-domain, request by request.

Sends the same scripted sequence of Image API v2 requests to two servers (a real Glance and
ours), as several identities (admin, members of projects A/B/C, a reader of A), and compares
what comes back: status codes, the headers clients look at (Content-Type, Location, Allow,
Content-Range, Content-MD5, Content-Length, OpenStack-image-*), and bodies -- JSON bodies
structurally after normalising run-specific values (image ids, project ids, timestamps, base
URL), error bodies by title and message, binary bodies by digest.

    python3 tools/conformance.py --glance http://127.0.0.1:9393 --ours http://127.0.0.1:9292
    python3 tools/conformance.py --glance URL --ours URL --markdown report.md --only images.list
    python3 tools/conformance.py --glance URL --ours-serve   # start a fresh glance-domain

Exit status: 0 = no difference, 1 = differences (except ignored categories), 2 = usage/network.

Identity comes from keystonemiddleware-style headers (X-Identity-Status: Confirmed, X-User-Id,
X-Project-Id, X-Roles), so both servers must trust them (no token validation): see
docs/conformance.md. Both servers need the same configuration for the results to be
comparable: one file store named ``fs`` (the default), ``image_size_cap = 2097152``.

Every run uses fresh, per-target project ids, image ids and a tag, so it can run again and
again against long-lived servers (and Glance against itself: ``--ours`` = ``--glance``).
Image ids are chosen by the checker and grow with creation order, so "created_at desc, id
desc" sorting is deterministic even when two images share a timestamp. Lists are compared
after dropping images that this run did not create (other runs' public images).
Uses only the standard library.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------------------------
# Identities
# --------------------------------------------------------------------------------------------

#: who -> (project key, user key, roles). Project/user keys are made unique per target and run.
IDENTITIES: dict[str, tuple[str, str, str]] = {
    "admin": ("ADM", "uadmin", "admin,member,reader"),
    "A": ("A", "ua", "member,reader"),
    "A2": ("A", "ua2", "member,reader"),
    "B": ("B", "ub", "member,reader"),
    "C": ("C", "uc", "member,reader"),
    "readerA": ("A", "uread", "reader"),
}

PATCH_CT = "application/openstack-images-v2.1-json-patch"
PATCH_CT_20 = "application/openstack-images-v2.0-json-patch"
OCTET = "application/octet-stream"

#: headers compared verbatim (after normalisation), lower-case names.
COMPARED_HEADERS = (
    "content-type",
    "location",
    "content-range",
    "content-md5",
    "openstack-image-import-methods",
    "openstack-image-store-ids",
    "accept-ranges",
)

DATA = b"glance-domain conformance payload " * 31  # 1054 bytes, deterministic
DATA2 = b"0123456789" * 10
POLL_SECONDS = 20.0
TOO_BIG = 2 * 1024 * 1024 + 1  # one byte over image_size_cap = 2097152


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One request of the script. Strings may hold placeholders, resolved per target:
    ``{img:NAME}`` an image id, ``{proj:A}`` a project id, ``{tag}`` this run's tag,
    ``{newid}`` a fresh uuid (never stored)."""

    area: str
    name: str
    method: str
    path: str
    who: str | None = "A"
    json: Any = None
    body: bytes | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    save: str | None = None  # on 2xx, remember body["id"] as image NAME
    only_run_images: bool = True  # drop foreign images from list bodies
    # Resend (up to POLL_SECONDS) until this is true of the JSON body: for asynchronous work
    # such as image import.
    poll_until: Callable[[Any], bool] | None = None
    chunked: bool = False  # send the body with Transfer-Encoding: chunked
    # After the request, GET this path (same identity) until the predicate holds: lets
    # asynchronous work finish on one server before the other one is asked (an import running
    # on both at once can hit "database is locked" in a SQLite-backed Glance).
    settle: tuple[str, Callable[[Any], bool]] | None = None
    skip_body: bool = False  # compare status + headers only
    compare: bool = True  # False: housekeeping request, sent but never compared

    @property
    def key(self) -> str:
        return f"{self.area}.{self.name}"


def _img_create(key: str, who: str = "A", **attrs: Any) -> Step:
    """Create image ``key`` (checker-chosen id, named ``key`` unless ``name=`` is given)."""
    body = {"id": f"{{img:{key}}}", "name": key, "tags": ["{tag}"]}
    body.update(attrs)
    return Step("images.create", key, "POST", "/v2/images", who, json=body)


def _patch(name: str, img: str, ops: Any, who: str = "A", ct: str = PATCH_CT) -> Step:
    raw = ops if isinstance(ops, bytes) else json.dumps(ops).encode()
    return Step("images.update", name, "PATCH", f"/v2/images/{{img:{img}}}", who, body=raw,
                content_type=ct)


def _upload(name: str, img: str, data: bytes = DATA, who: str = "A", ct: str = OCTET,
            **kw: Any) -> Step:
    return Step("images.upload", name, "PUT", f"/v2/images/{{img:{img}}}/file", who, body=data,
                content_type=ct, **kw)


def _list(name: str, query: str = "", who: str = "A", **kw: Any) -> Step:
    path = "/v2/images" + (f"?{query}" if query else "")
    return Step("images.list", name, "GET", path, who, **kw)


def _import_finished(image: Any) -> bool:
    """No import in progress: the image is not 'importing' and holds no import lock."""
    return image.get("status") != "importing" and (
        "os_glance_import_task" not in image
    )


def scenario() -> list[Step]:
    """The whole request script, in order (later steps depend on earlier ones)."""
    s: list[Step] = []
    add = s.append
    # --- versions / root / negotiation -------------------------------------------------
    add(Step("versions", "root", "GET", "/", None))
    add(Step("versions", "versions", "GET", "/versions", None))
    add(Step("versions", "v2_redirect", "GET", "/v2", None))
    add(Step("versions", "v2_slash", "GET", "/v2/", None))
    add(Step("versions", "unknown_version", "GET", "/v3/images", None))
    add(Step("versions", "v2_15_prefix", "GET", "/v2.15/schemas/image", None))
    add(Step("versions", "accept_header", "GET", "/schemas/image", None,
             headers={"Accept": "application/vnd.openstack.images-v2.1"}))
    add(Step("versions", "healthcheck", "GET", "/healthcheck", None))
    add(Step("versions", "post_versions", "POST", "/versions", None, json={}))
    # --- error rendering by Accept header (webob: text/plain, HTML or JSON) ----------
    for acc_name, accept in (("none", None), ("any", "*/*"), ("json", "application/json"),
                             ("html", "text/html"), ("xml", "application/xml")):
        hdrs = {"Accept": accept} if accept else {}
        add(Step("errors", f"404_accept_{acc_name}", "GET", "/v2/images/{newid}", "A",
                 headers=dict(hdrs)))
        add(Step("errors", f"405_accept_{acc_name}", "PUT", "/v2/images", "A",
                 headers=dict(hdrs)))
        add(Step("errors", f"400_accept_{acc_name}", "GET", "/v2/images?limit=abc", "A",
                 headers=dict(hdrs)))
        add(Step("errors", f"403_accept_{acc_name}", "POST", "/v2/images", "readerA",
                 json={"name": "x"}, headers=dict(hdrs)))
    # --- identity headers (as keystonemiddleware would set them) -------------------------
    def ident(name: str, path: str, method: str = "GET", **hdrs: str) -> Step:
        return Step("identity", name, method, path, None, headers=dict(hdrs),
                    json={"name": name} if method == "POST" else None, save=f"maybe_id_{name}")

    confirmed = {"X-Identity-Status": "Confirmed", "X-User-Id": "someone"}
    add(ident("roles_upper_case", "/v2/images", "POST", **confirmed,
              **{"X-Project-Id": "{proj:A}", "X-Roles": "Member,READER"}))
    add(ident("tenant_id_only", "/v2/images", "POST", **confirmed,
              **{"X-Tenant-Id": "{proj:A}", "X-Roles": "member,reader"}))
    add(ident("no_roles", "/v2/images", "POST", **confirmed, **{"X-Project-Id": "{proj:A}"}))
    add(ident("no_roles_list", "/v2/images?tag={tag}", **confirmed,
              **{"X-Project-Id": "{proj:A}"}))
    add(ident("admin_role_only", "/v2/images", "POST", **confirmed,
              **{"X-Project-Id": "{proj:A}", "X-Roles": "admin"}))
    add(ident("reader_role_only_list", "/v2/images?tag={tag}", **confirmed,
              **{"X-Project-Id": "{proj:A}", "X-Roles": "reader"}))
    add(ident("identity_invalid", "/v2/images?tag={tag}", **{
        "X-Identity-Status": "Invalid", "X-Project-Id": "{proj:A}", "X-Roles": "member"}))
    add(ident("no_project", "/v2/images", "POST", **confirmed, **{"X-Roles": "member,reader"}))
    add(ident("spaces_in_roles", "/v2/images?tag={tag}", **confirmed,
              **{"X-Project-Id": "{proj:A}", "X-Roles": " member , reader "}))
    for nm in ("roles_upper_case", "tenant_id_only", "no_roles", "admin_role_only",
               "no_project"):
        add(Step("cleanup", f"id_{nm}", "DELETE", f"/v2/images/{{img:maybe_id_{nm}}}", "admin",
                 compare=False))
    # --- schemas ----------------------------------------------------------------------
    for sch in ("image", "images", "member", "members", "task", "tasks"):
        add(Step("schemas", sch, "GET", f"/v2/schemas/{sch}", "A"))
    add(Step("schemas", "unknown", "GET", "/v2/schemas/nope", "A"))
    add(Step("schemas", "post_image", "POST", "/v2/schemas/image", "A", json={}))
    for sch in ("namespace", "namespaces", "resource_type", "resource_types", "property",
                "properties", "object", "objects", "tag", "tags"):
        add(Step("schemas", f"metadefs_{sch}", "GET", f"/v2/schemas/metadefs/{sch}", "A"))
    # --- info ------------------------------------------------------------------------
    add(Step("info", "import", "GET", "/v2/info/import", "A"))
    add(Step("info", "stores", "GET", "/v2/info/stores", "A"))
    add(Step("info", "stores_detail_member", "GET", "/v2/info/stores/detail", "A"))
    add(Step("info", "stores_detail_admin", "GET", "/v2/info/stores/detail", "admin"))
    add(Step("info", "usage", "GET", "/v2/info/usage", "A"))
    add(Step("info", "post_stores", "POST", "/v2/info/stores", "A", json={}))
    add(Step("info", "put_usage", "PUT", "/v2/info/usage", "A", json={}))

    # --- image create -------------------------------------------------------------------
    add(_img_create("full", disk_format="qcow2", container_format="bare", min_ram=512,
                    min_disk=2, protected=False, visibility="private", foo="bar", os_distro="x"))
    add(_img_create("plain"))
    add(_img_create("shared", visibility="shared", disk_format="raw", container_format="bare"))
    add(_img_create("public_adm", who="admin", visibility="public", disk_format="raw",
                    container_format="bare"))
    add(_img_create("community", visibility="community", disk_format="iso",
                    container_format="bare"))
    add(_img_create("prot", protected=True, disk_format="raw", container_format="bare"))
    add(_img_create("hidden", os_hidden=True))
    add(_img_create("onB", who="B", disk_format="raw", container_format="bare"))
    add(_img_create("data", disk_format="raw", container_format="bare"))
    add(_img_create("data2", disk_format="raw", container_format="bare"))
    add(_img_create("deact", disk_format="raw", container_format="bare"))
    # Throw-away images (no run tag, deleted again before the lists) for requests whose
    # outcome may differ, so that a difference there does not spread into every later list.
    add(_img_create("empty_up", disk_format="qcow2", container_format="bare", tags=[]))
    add(_img_create("uni", tags=[]))
    add(_img_create("shared_junk", visibility="shared", tags=[]))
    add(Step("images.create", "server_id", "POST", "/v2/images", "A",
             json={"name": "server-id", "tags": ["{tag}"]}, save="server_id"))
    add(Step("images.create", "empty_body", "POST", "/v2/images", "A", json={}, save="empty"))
    add(_img_create("dup_id"))
    add(Step("images.create", "duplicate_id", "POST", "/v2/images", "A",
             json={"id": "{img:dup_id}", "name": "again"}))
    bad_creates: dict[str, Any] = {
        "bad_visibility": {"visibility": "bogus"},
        "public_by_member": {"visibility": "public"},
        "bad_disk_format": {"disk_format": "nope"},
        "bad_container_format": {"container_format": "nope"},
        "null_disk_format": {"disk_format": None},
        "negative_min_ram": {"min_ram": -1},
        "string_min_disk": {"min_disk": "2"},
        "huge_min_ram": {"min_ram": 2**31},
        "name_too_long": {"name": "n" * 256},
        "name_number": {"name": 5},
        "bad_id": {"id": "not-a-uuid"},
        "readonly_status": {"status": "active"},
        "readonly_size": {"size": 5},
        "readonly_checksum": {"checksum": "abc"},
        "readonly_created_at": {"created_at": "2020-01-01T00:00:00Z"},
        "readonly_self": {"self": "/x"},
        "readonly_schema": {"schema": "/x"},
        "readonly_file": {"file": "/x"},
        "readonly_os_hash_value": {"os_hash_value": "abc"},
        "reserved_os_glance": {"os_glance_foo": "x"},
        "reserved_deleted": {"deleted": False},
        "reserved_location": {"location": "http://x"},
        "extra_prop_number": {"foo": 1},
        "extra_prop_null": {"foo": None},
        "extra_prop_list": {"foo": ["a"]},
        "protected_string": {"protected": "yes"},
        "os_hidden_string": {"os_hidden": "true"},
        "tags_not_list": {"tags": "abc"},
        "tag_too_long": {"tags": ["t" * 256]},
        "tag_not_string": {"tags": [1]},
        "tags_duplicate": {"tags": ["x", "x"]},
        "owner_other": {"owner": "someone-else"},
        "locations": {"locations": []},
        "direct_url": {"direct_url": "http://x"},
        "key_too_long": {"k" * 256: "v"},
        "value_too_long": {"foo": "v" * 65536},
    }
    for nm, extra in bad_creates.items():
        add(Step("images.create", nm, "POST", "/v2/images", "A",
                 json={"name": nm, **extra}, save=f"maybe_{nm}"))
    add(Step("images.create", "owner_by_admin", "POST", "/v2/images", "admin",
             json={"name": "owned", "owner": "{proj:C}", "tags": ["{tag}"]}, save="owned_by_c"))
    add(Step("images.create", "reader", "POST", "/v2/images", "readerA",
             json={"name": "r"}, save="maybe_reader"))
    add(Step("images.create", "malformed_json", "POST", "/v2/images", "A", body=b"{not json",
             content_type="application/json"))
    add(Step("images.create", "json_list", "POST", "/v2/images", "A", json=["a"]))
    add(Step("images.create", "json_string", "POST", "/v2/images", "A", json="a"))
    add(Step("images.create", "no_body", "POST", "/v2/images", "A", body=b"",
             content_type="application/json", save="maybe_nobody"))
    add(Step("images.create", "text_plain", "POST", "/v2/images", "A",
             body=b'{"name": "tp"}', content_type="text/plain", save="maybe_textplain"))

    # Creates that may succeed on one side only, and images with server-chosen (random) ids,
    # would make later lists differ in content or order: remove them again, uncompared.
    for nm in [*bad_creates, "reader", "nobody", "textplain"]:
        add(Step("cleanup", nm, "DELETE", f"/v2/images/{{img:maybe_{nm}}}", "A", compare=False))
    # Two images created back to back, the second with the smaller id: Glance orders them by
    # created_at with sub-second precision (second first); a server keeping whole seconds
    # falls back to "id desc" and puts the first one first.
    add(_img_create("subsec_first_rev", who="C", tags=["{tag}-sub"]))
    add(_img_create("subsec_second_rev", who="C", tags=["{tag}-sub"]))
    add(_list("sort_subsecond_created_at", "tag={tag}-sub", who="C"))
    for nm in ("subsec_first_rev", "subsec_second_rev"):
        add(Step("cleanup", nm, "DELETE", f"/v2/images/{{img:{nm}}}", "C", compare=False))
    # --- show ----------------------------------------------------------------------------
    add(Step("images.show", "owner", "GET", "/v2/images/{img:full}", "A"))
    add(Step("images.show", "same_project_other_user", "GET", "/v2/images/{img:full}", "A2"))
    add(Step("images.show", "reader", "GET", "/v2/images/{img:full}", "readerA"))
    add(Step("images.show", "admin", "GET", "/v2/images/{img:full}", "admin"))
    add(Step("images.show", "private_other_project", "GET", "/v2/images/{img:full}", "B"))
    add(Step("images.show", "shared_non_member", "GET", "/v2/images/{img:shared}", "B"))
    add(Step("images.show", "public_other_project", "GET", "/v2/images/{img:public_adm}", "B"))
    add(Step("images.show", "community_other_project", "GET", "/v2/images/{img:community}",
             "B"))
    add(Step("images.show", "hidden", "GET", "/v2/images/{img:hidden}", "A"))
    add(Step("images.show", "missing", "GET", "/v2/images/{newid}", "A"))
    add(Step("images.show", "not_uuid", "GET", "/v2/images/not-a-uuid", "A"))
    add(Step("images.show", "server_id", "GET", "/v2/images/{img:server_id}", "A"))
    for nm in ("server_id", "empty"):
        add(Step("cleanup", nm, "DELETE", f"/v2/images/{{img:{nm}}}", "A", compare=False))
    add(Step("images.show", "put_image", "PUT", "/v2/images/{img:full}", "A", json={}))
    add(Step("images.show", "post_image", "POST", "/v2/images/{img:full}", "A", json={}))

    # --- update (JSON patch) -----------------------------------------------------------
    add(_patch("replace_name", "plain", [{"op": "replace", "path": "/name", "value": "n2"}]))
    add(_patch("add_prop", "plain", [{"op": "add", "path": "/color", "value": "red"}]))
    add(_patch("add_existing_prop", "plain", [{"op": "add", "path": "/color", "value": "blue"}]))
    add(_patch("replace_missing_prop", "plain",
               [{"op": "replace", "path": "/nothere", "value": "x"}]))
    add(_patch("remove_prop", "plain", [{"op": "remove", "path": "/color"}]))
    add(_patch("remove_missing_prop", "plain", [{"op": "remove", "path": "/color"}]))
    add(_patch("multi_ops", "plain", [
        {"op": "replace", "path": "/min_ram", "value": 128},
        {"op": "replace", "path": "/disk_format", "value": "raw"},
        {"op": "replace", "path": "/container_format", "value": "bare"},
        {"op": "add", "path": "/a_b", "value": "1"},
    ]))
    add(_patch("replace_tags", "plain",
               [{"op": "replace", "path": "/tags", "value": ["{tag}", "t2", "t1"]}]))
    add(_patch("replace_protected", "plain",
               [{"op": "replace", "path": "/protected", "value": False}]))
    add(_patch("remove_name", "plain", [{"op": "remove", "path": "/name"}]))
    add(_patch("remove_min_ram", "plain", [{"op": "remove", "path": "/min_ram"}]))
    add(_patch("name_null", "plain", [{"op": "replace", "path": "/name", "value": None}]))
    add(_patch("visibility_community", "plain",
               [{"op": "replace", "path": "/visibility", "value": "community"}]))
    add(_patch("visibility_private", "plain",
               [{"op": "replace", "path": "/visibility", "value": "private"}]))
    add(_patch("visibility_public_member", "plain",
               [{"op": "replace", "path": "/visibility", "value": "public"}]))
    add(_patch("visibility_bogus", "plain",
               [{"op": "replace", "path": "/visibility", "value": "bogus"}]))
    add(_patch("os_hidden_true", "plain",
               [{"op": "replace", "path": "/os_hidden", "value": True}]))
    add(_patch("os_hidden_false", "plain",
               [{"op": "replace", "path": "/os_hidden", "value": False}]))
    add(_patch("draft10_format", "plain", [{"replace": "/name", "value": "d10"}], ct=PATCH_CT_20))
    add(_patch("empty_ops", "plain", []))
    for nm, ops in {
        "readonly_id": [{"op": "replace", "path": "/id", "value": "{newid}"}],
        "readonly_status": [{"op": "replace", "path": "/status", "value": "active"}],
        "readonly_size": [{"op": "replace", "path": "/size", "value": 1}],
        "readonly_checksum": [{"op": "replace", "path": "/checksum", "value": "x"}],
        "readonly_created_at": [{"op": "replace", "path": "/created_at", "value": "x"}],
        "readonly_owner_member": [{"op": "replace", "path": "/owner", "value": "x"}],
        "reserved_os_glance": [{"op": "add", "path": "/os_glance_x", "value": "x"}],
        "reserved_deleted": [{"op": "replace", "path": "/deleted", "value": True}],
        "remove_readonly": [{"op": "remove", "path": "/status"}],
        "op_move": [{"op": "move", "from": "/name", "path": "/foo"}],
        "op_copy": [{"op": "copy", "from": "/name", "path": "/foo"}],
        "op_test": [{"op": "test", "path": "/name", "value": "n2"}],
        "op_bogus": [{"op": "bogus", "path": "/name", "value": "x"}],
        "missing_op": [{"path": "/name", "value": "x"}],
        "missing_path": [{"op": "replace", "value": "x"}],
        "missing_value": [{"op": "replace", "path": "/name"}],
        "path_no_slash": [{"op": "replace", "path": "name", "value": "x"}],
        "path_nested": [{"op": "replace", "path": "/name/x", "value": "x"}],
        "path_tags_index": [{"op": "add", "path": "/tags/0", "value": "x"}],
        "path_escaped": [{"op": "add", "path": "/a~1b", "value": "x"}],
        "path_bad_escape": [{"op": "add", "path": "/a~2b", "value": "x"}],
        "min_ram_string": [{"op": "replace", "path": "/min_ram", "value": "abc"}],
        "min_disk_negative": [{"op": "replace", "path": "/min_disk", "value": -5}],
        "disk_format_bogus": [{"op": "replace", "path": "/disk_format", "value": "x"}],
        "prop_number": [{"op": "add", "path": "/foo", "value": 1}],
        "tags_not_list": [{"op": "replace", "path": "/tags", "value": "x"}],
        "protected_string": [{"op": "replace", "path": "/protected", "value": "true"}],
        "ops_not_list": {"op": "replace", "path": "/name", "value": "x"},
        "op_not_dict": ["replace"],
        "locations_replace": [{"op": "replace", "path": "/locations", "value": []}],
    }.items():
        add(_patch(nm, "plain", ops))
    add(_patch("malformed_json", "plain", b"[{not json"))
    add(_patch("content_type_json", "plain",
               [{"op": "replace", "path": "/name", "value": "x"}], ct="application/json"))
    add(_patch("content_type_missing", "plain",
               [{"op": "replace", "path": "/name", "value": "x"}], ct=""))
    add(_patch("other_project", "plain",
               [{"op": "replace", "path": "/name", "value": "x"}], who="B"))
    add(_patch("public_image_other_project", "public_adm",
               [{"op": "replace", "path": "/name", "value": "x"}], who="B"))
    add(_patch("reader", "plain", [{"op": "replace", "path": "/name", "value": "x"}],
               who="readerA"))
    add(_patch("admin_owner_change", "owned_by_c",
               [{"op": "replace", "path": "/owner", "value": "{proj:B}"}], who="admin"))
    add(_patch("missing_image", "nonexistent",
               [{"op": "replace", "path": "/name", "value": "x"}]))
    add(_patch("set_protected", "prot",
               [{"op": "replace", "path": "/protected", "value": True}]))
    add(Step("images.update", "show_after", "GET", "/v2/images/{img:plain}", "A"))

    # --- upload ---------------------------------------------------------------------------
    add(_upload("reader", "data", who="readerA"))
    add(_upload("other_project", "data", who="B"))
    add(_upload("wrong_content_type", "data", ct="application/json"))
    add(_upload("no_content_type", "data", ct=""))
    add(_upload("too_big", "data2", data=b"\0" * TOO_BIG))
    add(Step("images.upload", "after_too_big", "GET", "/v2/images/{img:data2}", "A"))
    add(_upload("valid", "data"))
    add(Step("images.upload", "show_active", "GET", "/v2/images/{img:data}", "A"))
    add(_upload("again_active", "data"))
    add(_upload("valid_data2", "data2", data=DATA2))
    add(_upload("missing_image", "nonexistent"))
    add(_upload("empty_image", "empty_up", data=b""))
    add(Step("images.upload", "show_empty", "GET", "/v2/images/{img:empty_up}", "A"))
    add(_upload("deact_data", "deact", data=DATA2))
    add(_upload("shared_data", "shared", data=DATA2))
    add(_upload("public_data", "public_adm", data=DATA2, who="admin"))
    add(_upload("prot_data", "prot", data=DATA2))
    add(Step("images.upload", "stage_wrong_state", "PUT", "/v2/images/{img:data}/stage", "A",
             body=b"x", content_type=OCTET))
    add(Step("images.upload", "post_file", "POST", "/v2/images/{img:data}/file", "A",
             body=b"x", content_type=OCTET))

    # --- download ---------------------------------------------------------------------
    def dl(name: str, img: str, who: str = "A", **headers: str) -> Step:
        return Step("images.download", name, "GET", f"/v2/images/{{img:{img}}}/file", who,
                    headers=dict(headers))

    add(dl("full", "data"))
    add(dl("reader", "data", who="readerA"))
    add(dl("other_project", "data", who="B"))
    add(dl("range_start_end", "data", Range="bytes=2-9"))
    add(dl("range_open", "data", Range="bytes=1000-"))
    add(dl("range_suffix", "data", Range="bytes=-10"))
    add(dl("range_whole", "data", Range="bytes=0-1053"))
    add(dl("range_past_end", "data", Range="bytes=1000-5000"))
    add(dl("range_unsatisfiable", "data", Range="bytes=5000-6000"))
    add(dl("range_multi", "data", Range="bytes=0-1,4-5"))
    add(dl("range_garbage", "data", Range="garbage"))
    add(dl("range_reversed", "data", Range="bytes=9-2"))
    add(dl("content_range_req", "data", **{"Content-Range": "bytes 2-9/*"}))
    add(dl("content_range_bad", "data", **{"Content-Range": "bytes 2000-3000/*"}))
    add(dl("queued_no_data", "plain"))
    add(dl("empty_data", "empty_up"))
    add(Step("cleanup", "empty_up", "DELETE", "/v2/images/{img:empty_up}", "A", compare=False))
    add(dl("missing", "nonexistent"))
    add(dl("public_other_project", "public_adm", who="B"))
    add(Step("images.download", "head_file", "HEAD", "/v2/images/{img:data}/file", "A",
             skip_body=True))

    # --- tags -------------------------------------------------------------------------
    def tag(name: str, method: str, img: str, value: str, who: str = "A") -> Step:
        return Step("images.tags", name, method, f"/v2/images/{{img:{img}}}/tags/{value}", who)

    add(tag("add", "PUT", "data", "red"))
    add(tag("add_again", "PUT", "data", "red"))
    add(tag("add_unicode", "PUT", "uni", "%C3%A9t%C3%A9"))
    add(Step("images.tags", "show_unicode", "GET", "/v2/images/{img:uni}", "A"))
    add(Step("cleanup", "uni", "DELETE", "/v2/images/{img:uni}", "A", compare=False))
    add(tag("add_too_long", "PUT", "data", "t" * 256))
    add(tag("add_other_project", "PUT", "data", "x", who="B"))
    add(tag("add_reader", "PUT", "data", "x", who="readerA"))
    add(tag("add_missing_image", "PUT", "nonexistent", "x"))
    add(tag("delete", "DELETE", "data", "red"))
    add(tag("delete_missing", "DELETE", "data", "red"))
    add(tag("get", "GET", "data", "red"))
    add(tag("post", "POST", "data", "red"))
    add(Step("images.tags", "show_after", "GET", "/v2/images/{img:data}", "A"))

    # --- list -------------------------------------------------------------------------
    add(_list("default"))
    add(_list("default_B", who="B"))
    add(_list("default_admin_by_tag", "tag={tag}", who="admin"))
    add(_list("reader", who="readerA"))
    add(_list("by_tag", "tag={tag}"))
    add(_list("by_two_tags", "tag={tag}&tag=t1"))
    add(_list("by_name", "name=n2&tag={tag}"))
    add(_list("by_name_in", 'name=in:n2,"full"&tag={tag}'))
    add(_list("by_id_in", "id=in:{img:data},{img:full}"))
    add(_list("by_status", "status=active&tag={tag}"))
    add(_list("by_status_bogus", "status=bogus"))
    add(_list("by_status_in", "status=in:active,queued&tag={tag}"))
    add(_list("by_disk_format", "disk_format=raw&tag={tag}"))
    add(_list("by_container_format_in", "container_format=in:bare,ovf&tag={tag}"))
    add(_list("by_size_min", "size_min=100&tag={tag}"))
    add(_list("by_size_max", "size_max=100&tag={tag}"))
    add(_list("by_size_min_bad", "size_min=abc"))
    add(_list("by_size_min_negative", "size_min=-1"))
    add(_list("by_size_range_inverted", "size_min=100&size_max=10"))
    add(_list("by_protected_true", "protected=true&tag={tag}"))
    add(_list("by_protected_bogus", "protected=maybe"))
    add(_list("by_custom_prop", "foo=bar"))
    add(_list("by_os_distro", "os_distro=x"))
    add(_list("by_owner", "owner={proj:A}&tag={tag}", who="admin"))
    add(_list("by_owner_other", "owner={proj:B}", who="A"))
    add(_list("by_min_ram", "min_ram=512&tag={tag}"))
    add(_list("by_checksum", f"checksum={hashlib.md5(DATA).hexdigest()}"))
    add(_list("by_os_hash_value",
              f"os_hash_value={hashlib.sha512(DATA).hexdigest()}"))
    add(_list("by_created_at_gt", "created_at=gt:2000-01-01T00:00:00Z&tag={tag}"))
    add(_list("by_created_at_lt", "created_at=lt:2000-01-01T00:00:00Z&tag={tag}"))
    add(_list("by_updated_at_gte", "updated_at=gte:2000-01-01T00:00:00Z&tag={tag}"))
    add(_list("by_created_at_bad_op", "created_at=foo:2000-01-01T00:00:00Z"))
    add(_list("by_created_at_bad_date", "created_at=gt:yesterday"))
    add(_list("by_created_at_no_op", "created_at=2000-01-01T00:00:00Z"))
    for vis in ("public", "private", "shared", "community", "all", "bogus"):
        add(_list(f"visibility_{vis}", f"visibility={vis}&tag={{tag}}"))
    add(_list("visibility_public_B", "visibility=public&tag={tag}", who="B"))
    add(_list("visibility_all_admin", "visibility=all&tag={tag}", who="admin"))
    add(_list("os_hidden_true", "os_hidden=true&tag={tag}"))
    add(_list("os_hidden_false", "os_hidden=false&tag={tag}"))
    add(_list("os_hidden_bogus", "os_hidden=maybe"))
    for ms in ("accepted", "pending", "rejected", "all", "bogus"):
        add(_list(f"member_status_{ms}", f"member_status={ms}&tag={{tag}}"))
    add(_list("sort_name_asc", "sort_key=name&sort_dir=asc&tag={tag}"))
    add(_list("sort_name_desc_size", "sort_key=name&sort_key=size&sort_dir=desc&tag={tag}"))
    add(_list("sort_two_dirs", "sort_key=name&sort_dir=asc&sort_key=id&sort_dir=desc&tag={tag}"))
    add(_list("sort_new_syntax", "sort=name:asc,created_at:desc&tag={tag}"))
    add(_list("sort_new_syntax_no_dir", "sort=min_ram,name&tag={tag}"))
    add(_list("sort_bad_key", "sort_key=bogus"))
    add(_list("sort_bad_dir", "sort_key=name&sort_dir=up"))
    add(_list("sort_bad_new_dir", "sort=name:up"))
    add(_list("sort_mixed_syntax", "sort=name&sort_key=id"))
    add(_list("sort_dirs_mismatch", "sort_key=name&sort_dir=asc&sort_dir=desc"))
    add(_list("sort_custom_prop", "sort_key=foo"))
    add(_list("sort_tags", "sort_key=tags"))
    add(_list("limit_2", "limit=2&tag={tag}"))
    add(_list("limit_0", "limit=0&tag={tag}"))
    add(_list("limit_negative", "limit=-1"))
    add(_list("limit_string", "limit=abc"))
    add(_list("limit_huge", "limit=100000&tag={tag}"))
    add(_list("marker", "limit=2&marker={img:hidden}&tag={tag}"))
    add(_list("marker_last", "marker={img:full}&tag={tag}"))
    add(_list("marker_unknown", "marker={newid}"))
    add(_list("marker_not_uuid", "marker=abc"))
    add(_list("marker_other_project_private", "marker={img:onB}"))
    add(_list("unknown_param", "bogus=1&tag={tag}"))
    add(_list("page_sorted", "limit=3&sort_key=name&sort_dir=asc&tag={tag}"))
    add(_list("page_sorted_2", "limit=3&sort_key=name&sort_dir=asc&marker={img:data}&tag={tag}"))
    add(Step("images.list", "delete_collection", "DELETE", "/v2/images", "A"))
    add(Step("images.list", "put_collection", "PUT", "/v2/images", "A", json={}))

    # --- members ---------------------------------------------------------------------
    def mem(name: str, method: str, img: str, member: str | None = None, who: str = "A",
            body: Any = None) -> Step:
        path = f"/v2/images/{{img:{img}}}/members" + (f"/{member}" if member else "")
        return Step("images.members", name, method, path, who, json=body)

    add(mem("create", "POST", "shared", body={"member": "{proj:B}"}))
    add(mem("create_duplicate", "POST", "shared", body={"member": "{proj:B}"}))
    add(mem("create_second", "POST", "shared", body={"member": "{proj:C}"}))
    add(mem("create_private_image", "POST", "full", body={"member": "{proj:B}"}))
    add(mem("create_public_image", "POST", "public_adm", who="admin",
            body={"member": "{proj:B}"}))
    add(mem("create_community_image", "POST", "community", body={"member": "{proj:B}"}))
    add(mem("create_by_member", "POST", "shared", who="B", body={"member": "{proj:C}"}))
    add(mem("create_by_reader", "POST", "shared", who="readerA", body={"member": "x"}))
    add(mem("create_no_member_key", "POST", "shared", body={"foo": "x"}))
    add(mem("create_member_not_string", "POST", "shared_junk", body={"member": 5}))
    add(mem("create_extra_key", "POST", "shared_junk",
            body={"member": "{proj:B}x", "status": "x"}))
    add(mem("list_junk", "GET", "shared_junk"))
    add(Step("cleanup", "shared_junk", "DELETE", "/v2/images/{img:shared_junk}", "A",
             compare=False))
    add(mem("create_missing_image", "POST", "nonexistent", body={"member": "{proj:B}"}))
    add(mem("create_empty_body", "POST", "shared", body=None))
    add(mem("list_owner", "GET", "shared"))
    add(mem("list_member", "GET", "shared", who="B"))
    add(mem("list_non_member", "GET", "shared", who="ADM_NONE"))
    add(mem("list_private", "GET", "full"))
    add(mem("show_owner", "GET", "shared", "{proj:B}"))
    add(mem("show_member_self", "GET", "shared", "{proj:B}", who="B"))
    add(mem("show_member_other", "GET", "shared", "{proj:C}", who="B"))
    add(mem("show_missing", "GET", "shared", "nobody"))
    add(mem("show_B_before_accept", "GET", "shared", "{proj:B}", who="B"))
    add(Step("images.members", "image_visible_to_pending_member", "GET",
             "/v2/images/{img:shared}", "B"))
    add(_list("members_pending_B", "member_status=pending&tag={tag}", who="B"))
    add(mem("update_accept", "PUT", "shared", "{proj:B}", who="B", body={"status": "accepted"}))
    add(mem("update_by_owner", "PUT", "shared", "{proj:B}", body={"status": "accepted"}))
    add(mem("update_bad_status", "PUT", "shared", "{proj:B}", who="B", body={"status": "x"}))
    add(mem("update_no_status", "PUT", "shared", "{proj:B}", who="B", body={"foo": "x"}))
    add(mem("update_other_member", "PUT", "shared", "{proj:C}", who="B",
            body={"status": "accepted"}))
    add(mem("update_reject_C", "PUT", "shared", "{proj:C}", who="C", body={"status": "rejected"}))
    add(mem("update_missing_member", "PUT", "shared", "nobody", who="B",
            body={"status": "accepted"}))
    add(_list("members_accepted_B", "tag={tag}", who="B"))
    add(_list("members_shared_B", "visibility=shared&tag={tag}", who="B"))
    add(_list("members_all_C", "member_status=all&tag={tag}", who="C"))
    add(_list("members_rejected_C", "member_status=rejected&tag={tag}", who="C"))
    add(Step("images.members", "image_visible_to_member", "GET", "/v2/images/{img:shared}", "B"))
    add(Step("images.members", "download_by_member", "GET", "/v2/images/{img:shared}/file",
             "B"))
    add(mem("list_after_accept", "GET", "shared"))
    add(mem("delete_by_member", "DELETE", "shared", "{proj:C}", who="B"))
    add(mem("delete_by_owner", "DELETE", "shared", "{proj:C}"))
    add(mem("delete_again", "DELETE", "shared", "{proj:C}"))
    add(mem("delete_self", "DELETE", "shared", "{proj:B}", who="B"))
    add(mem("post_member", "POST", "shared", "{proj:B}", body={}))
    add(mem("patch_members", "PATCH", "shared", body=None))
    add(_patch("shared_to_private_with_members", "shared",
               [{"op": "replace", "path": "/visibility", "value": "private"}]))
    add(mem("list_after_private", "GET", "shared"))

    # --- deactivate / reactivate -------------------------------------------------------
    def act(name: str, action: str, img: str, who: str = "admin") -> Step:
        return Step("images.actions", name, "POST", f"/v2/images/{{img:{img}}}/actions/{action}",
                    who)

    add(act("deactivate_queued", "deactivate", "plain"))
    add(act("deactivate_by_owner", "deactivate", "deact", who="A"))
    add(act("deactivate", "deactivate", "deact"))
    add(act("deactivate_again", "deactivate", "deact"))
    add(Step("images.actions", "show_deactivated", "GET", "/v2/images/{img:deact}", "A"))
    add(Step("images.actions", "download_deactivated_owner", "GET",
             "/v2/images/{img:deact}/file", "A"))
    add(Step("images.actions", "download_deactivated_admin", "GET",
             "/v2/images/{img:deact}/file", "admin"))
    add(_list("deactivated_in_list", "status=deactivated&tag={tag}"))
    add(_upload("upload_deactivated", "deact", data=DATA2))
    add(_patch("update_deactivated", "deact",
               [{"op": "replace", "path": "/name", "value": "dd"}]))
    add(act("reactivate_by_owner", "reactivate", "deact", who="A"))
    add(act("reactivate", "reactivate", "deact"))
    add(act("reactivate_active", "reactivate", "deact"))
    add(act("reactivate_queued", "reactivate", "plain"))
    add(act("deactivate_missing", "deactivate", "nonexistent"))
    add(act("unknown_action", "bogus", "deact"))
    add(Step("images.actions", "get_deactivate", "GET",
             "/v2/images/{img:deact}/actions/deactivate", "admin"))

    # --- stores / locations / import / tasks -----------------------------------------
    add(Step("stores", "delete_last_location", "DELETE", "/v2/stores/fs/{img:data2}", "admin"))
    add(Step("stores", "delete_unknown_store", "DELETE", "/v2/stores/nope/{img:data2}",
             "admin"))
    add(Step("stores", "delete_by_member", "DELETE", "/v2/stores/fs/{img:data2}", "A"))
    add(Step("stores", "delete_queued", "DELETE", "/v2/stores/fs/{img:plain}", "admin"))
    add(Step("stores", "get_store_image", "GET", "/v2/stores/fs/{img:data2}", "admin"))
    add(Step("images.locations", "get_member", "GET", "/v2/images/{img:plain}/locations", "A"))
    add(Step("images.locations", "get_admin", "GET", "/v2/images/{img:data2}/locations",
             "admin"))
    add(Step("images.locations", "delete", "DELETE", "/v2/images/{img:plain}/locations", "A"))
    add(Step("images.import", "get", "GET", "/v2/images/{img:plain}/import", "A"))
    add(Step("images.import", "bad_method", "POST", "/v2/images/{img:plain}/import", "A",
             json={"method": {"name": "bogus"}}))
    add(Step("images.import", "no_body", "POST", "/v2/images/{img:plain}/import", "A",
             json={}))
    add(Step("images.import", "glance_direct_not_staged", "POST",
             "/v2/images/{img:plain}/import", "A", json={"method": {"name": "glance-direct"}}))
    add(Step("images.tasks", "image_tasks", "GET", "/v2/images/{img:data}/tasks", "A"))
    add(Step("images.tasks", "image_tasks_post", "POST", "/v2/images/{img:data}/tasks", "A",
             json={}))
    add(Step("tasks", "list", "GET", "/v2/tasks", "admin", skip_body=True))

    # --- interoperable import: glance-direct (stage + import), copy-image, bad requests --
    def imp(name: str, img: str, body: Any, who: str = "A") -> Step:
        return Step("images.import", name, "POST", f"/v2/images/{{img:{img}}}/import", who,
                    json=body, settle=(f"/v2/images/{{img:{img}}}", _import_finished))

    add(_img_create("imp", disk_format="raw", container_format="bare"))
    add(Step("images.import", "stage", "PUT", "/v2/images/{img:imp}/stage", "A", body=DATA2,
             content_type=OCTET))
    add(Step("images.import", "show_uploading", "GET", "/v2/images/{img:imp}", "A"))
    add(Step("images.import", "stage_again", "PUT", "/v2/images/{img:imp}/stage", "A",
             body=DATA2, content_type=OCTET))
    add(Step("images.import", "upload_after_stage", "PUT", "/v2/images/{img:imp}/file", "A",
             body=DATA2, content_type=OCTET))
    add(imp("by_other_project", "imp", {"method": {"name": "glance-direct"}}, who="B"))
    add(imp("by_reader", "imp", {"method": {"name": "glance-direct"}}, who="readerA"))
    add(imp("unknown_store", "imp", {"method": {"name": "glance-direct"}, "stores": ["nope"]}))
    add(imp("glance_direct", "imp", {"method": {"name": "glance-direct"}}))
    add(Step("images.import", "show_after_import", "GET", "/v2/images/{img:imp}", "A",
             poll_until=_import_finished))
    add(Step("images.import", "download_imported", "GET", "/v2/images/{img:imp}/file", "A"))
    add(Step("images.import", "image_tasks", "GET", "/v2/images/{img:imp}/tasks", "A"))
    add(imp("glance_direct_again", "imp", {"method": {"name": "glance-direct"}}))
    add(imp("copy_image_same_store", "imp", {"method": {"name": "copy-image"}, "stores": ["fs"]},
            who="admin"))
    add(imp("copy_image_by_member", "imp", {"method": {"name": "copy-image"},
                                            "all_stores": True}))
    add(imp("web_download_no_uri", "plain", {"method": {"name": "web-download"}}))
    add(imp("web_download_bad_uri", "plain", {"method": {"name": "web-download",
                                                          "uri": "ftp://x"}}))
    add(imp("all_stores_and_stores", "plain", {"method": {"name": "glance-direct"},
                                               "stores": ["fs"], "all_stores": True}))
    add(Step("images.import", "stage_chunked", "PUT", "/v2/images/{img:data2}/stage", "A",
             body=DATA2, content_type=OCTET, chunked=True))

    # --- admin on other projects' images, community images, quotas, staged deletes ------
    add(_img_create("b_priv", who="B", disk_format="raw", container_format="bare"))
    add(_img_create("b_shared", who="B", visibility="shared"))
    add(_img_create("b_comm", who="B", visibility="community", disk_format="raw",
                    container_format="bare"))
    add(Step("admin", "show_other_private", "GET", "/v2/images/{img:b_priv}", "admin"))
    add(_patch("admin_update_other", "b_priv",
               [{"op": "add", "path": "/adm", "value": "1"}], who="admin"))
    add(_upload("admin_upload_other", "b_priv", data=DATA2, who="admin"))
    add(Step("admin", "download_other_private", "GET", "/v2/images/{img:b_priv}/file",
             "admin"))
    add(Step("admin", "add_member_other", "POST", "/v2/images/{img:b_shared}/members", "admin",
             json={"member": "{proj:A}"}))
    add(Step("admin", "list_members_other", "GET", "/v2/images/{img:b_shared}/members",
             "admin"))
    add(Step("admin", "accept_for_member", "PUT",
             "/v2/images/{img:b_shared}/members/{proj:A}", "admin", json={"status": "accepted"}))
    add(_patch("admin_make_public", "b_shared",
               [{"op": "replace", "path": "/visibility", "value": "public"}], who="admin"))
    add(Step("admin", "list_members_after_public", "GET",
             "/v2/images/{img:b_shared}/members", "admin"))
    add(_list("admin_visibility_private", "visibility=private&tag={tag}", who="admin"))
    add(Step("admin", "locations_queued", "GET", "/v2/images/{img:b_comm}/locations", "admin"))
    add(_upload("community_data", "b_comm", data=DATA2, who="B"))
    add(Step("community", "show_by_A", "GET", "/v2/images/{img:b_comm}", "A"))
    add(Step("community", "download_by_A", "GET", "/v2/images/{img:b_comm}/file", "A"))
    add(_patch("community_update_by_A", "b_comm",
               [{"op": "replace", "path": "/name", "value": "x"}]))
    add(Step("community", "tag_by_A", "PUT", "/v2/images/{img:b_comm}/tags/x", "A"))
    add(Step("community", "members_by_A", "GET", "/v2/images/{img:b_comm}/members", "A"))
    add(Step("community", "delete_by_A", "DELETE", "/v2/images/{img:b_comm}", "A"))
    add(_list("community_listed_for_A", "visibility=community&tag={tag}"))
    add(_list("community_not_in_default_for_A", "tag={tag}&owner={proj:B}"))
    add(_patch("tag_quota", "plain",
               [{"op": "replace", "path": "/tags", "value": [f"t{i}" for i in range(129)]}]))
    add(Step("images.tags", "tag_quota_one_more", "PUT", "/v2/images/{img:b_priv}/tags/t",
             "B"))
    add(_img_create("staged_del", disk_format="raw", container_format="bare"))
    add(Step("images.import", "stage_then_delete", "PUT", "/v2/images/{img:staged_del}/stage",
             "A", body=DATA2, content_type=OCTET))
    add(_patch("update_while_uploading", "staged_del",
               [{"op": "replace", "path": "/name", "value": "renamed"}]))
    add(Step("images.delete", "staged_image", "DELETE", "/v2/images/{img:staged_del}", "A"))
    add(Step("images.delete", "show_staged_deleted", "GET", "/v2/images/{img:staged_del}",
             "A"))
    for nm in ("b_priv", "b_shared", "b_comm"):
        add(Step("cleanup", nm, "DELETE", f"/v2/images/{{img:{nm}}}", "admin", compare=False))

    # --- more parameters and odd requests ------------------------------------------------
    add(_img_create("chunked", disk_format="raw", container_format="bare"))
    add(_upload("chunked_upload", "chunked", data=DATA * 100, chunked=True))
    add(Step("images.upload", "show_chunked", "GET", "/v2/images/{img:chunked}", "A"))
    add(Step("images.download", "chunked_full", "GET", "/v2/images/{img:chunked}/file", "A"))
    add(Step("images.show", "head_image", "HEAD", "/v2/images/{img:chunked}", "A",
             skip_body=True))
    add(Step("images.list", "head_images", "HEAD", "/v2/images", "A", skip_body=True))
    for nm, query in {
        "limit_empty": "limit=",
        "limit_twice": "limit=1&limit=2&tag={tag}",
        "limit_float": "limit=1.5",
        "visibility_upper": "visibility=PUBLIC",
        "protected_capital": "protected=True&tag={tag}",
        "os_hidden_capital": "os_hidden=True&tag={tag}",
        "size_min_float": "size_min=1.5",
        "tag_empty": "tag=",
        "name_unicode": "name=%C3%A9t%C3%A9",
        "name_in_quoted_comma": 'name=in:"a,b",c&tag={tag}',
        "name_in_unterminated_quote": 'name=in:"a,b',
        "sort_dir_only": "sort_dir=asc&tag={tag}",
        "sort_key_empty": "sort_key=",
        "sort_empty": "sort=",
        "marker_queued_image": "marker={img:plain}",
        "member_status_with_public": "member_status=accepted&visibility=public&tag={tag}",
        "owner_and_visibility_private_admin": "owner={proj:B}&visibility=private",
        "id_in_bad": "id=in:abc",
        "status_deleted": "status=deleted&tag={tag}",
        "changes_since": "changes-since=2000-01-01T00:00:00Z&tag={tag}",
        "updated_at_two_ops": "updated_at=gt:2000-01-01T00:00:00Z"
        "&updated_at=lt:2100-01-01T00:00:00Z&tag={tag}",
    }.items():
        add(_list(nm, query))
    add(_img_create("unicode_name", name="\u00e9t\u00e9 \u2603", tags=["{tag}", "\u2603"]))
    add(_list("by_unicode_name", "name=%C3%A9t%C3%A9%20%E2%98%83&tag={tag}"))
    add(_list("by_unicode_tag", "tag=%E2%98%83"))
    add(_patch("many_ops_quota", "unicode_name",
               [{"op": "add", "path": f"/p{i}", "value": "v"} for i in range(130)]))
    add(_patch("tags_with_duplicates", "unicode_name",
               [{"op": "replace", "path": "/tags", "value": ["{tag}", "d", "d"]}]))
    add(_patch("os_hidden_null", "unicode_name",
               [{"op": "replace", "path": "/os_hidden", "value": None}]))
    add(_patch("add_locations_member", "unicode_name",
               [{"op": "add", "path": "/locations/-",
                 "value": {"url": "http://127.0.0.1:1/x", "metadata": {}}}]))
    add(Step("images.update", "show_unicode", "GET", "/v2/images/{img:unicode_name}", "A"))

    # --- other routes -----------------------------------------------------------------
    add(Step("routes", "cache", "GET", "/v2/cache", "admin"))
    add(Step("routes", "cache_put_405", "POST", "/v2/cache", "admin"))
    add(Step("routes", "unknown_v2", "GET", "/v2/nothing", "A"))
    add(Step("routes", "file_delete_405", "DELETE", "/v2/images/{img:data}/file", "A"))
    add(Step("routes", "members_put_405", "PUT", "/v2/images/{img:shared}/members", "A"))
    add(Step("routes", "info_import_post_405", "POST", "/v2/info/import", "A"))
    add(Step("routes", "metadefs_resource_types", "GET", "/v2/metadefs/resource_types", "A"))
    add(Step("routes", "metadefs_namespaces", "GET", "/v2/metadefs/namespaces", "A"))
    add(Step("routes", "metadefs_namespace_missing", "GET", "/v2/metadefs/namespaces/nope",
             "A"))
    add(Step("routes", "metadefs_namespaces_put_405", "PUT", "/v2/metadefs/namespaces", "A"))
    add(Step("routes", "tasks_put_405", "PUT", "/v2/tasks", "admin"))
    add(Step("routes", "cache_image_get_405", "GET", "/v2/cache/{img:data}", "admin"))
    add(Step("routes", "info_usage_post_404", "POST", "/v2/info/usage", "A"))

    s.extend(_metadef_steps())

    # --- delete -------------------------------------------------------------------------
    add(Step("images.delete", "protected", "DELETE", "/v2/images/{img:prot}", "A"))
    add(Step("images.delete", "protected_admin", "DELETE", "/v2/images/{img:prot}", "admin"))
    add(Step("images.delete", "other_project", "DELETE", "/v2/images/{img:full}", "B"))
    add(Step("images.delete", "public_other_project", "DELETE", "/v2/images/{img:public_adm}",
             "B"))
    add(Step("images.delete", "reader", "DELETE", "/v2/images/{img:full}", "readerA"))
    add(Step("images.delete", "owner", "DELETE", "/v2/images/{img:full}", "A"))
    add(Step("images.delete", "again", "DELETE", "/v2/images/{img:full}", "A"))
    add(Step("images.delete", "show_deleted", "GET", "/v2/images/{img:full}", "A"))
    add(Step("images.delete", "active_image", "DELETE", "/v2/images/{img:data}", "A"))
    add(Step("images.delete", "download_deleted", "GET", "/v2/images/{img:data}/file", "A"))
    add(Step("images.delete", "deactivated_image", "DELETE", "/v2/images/{img:deact}", "A"))
    add(_patch("unprotect", "prot", [{"op": "replace", "path": "/protected", "value": False}]))
    add(Step("images.delete", "unprotected", "DELETE", "/v2/images/{img:prot}", "A"))
    add(Step("images.delete", "admin_other_project", "DELETE", "/v2/images/{img:onB}",
             "admin"))
    add(Step("images.delete", "missing", "DELETE", "/v2/images/{newid}", "A"))
    add(_list("after_deletes", "tag={tag}"))
    s.extend(_extra_steps())
    return s


def _extra_steps() -> list[Step]:
    """Area ``extra``: what Nova, Horizon, openstacksdk and the CLIs commonly send, beyond the
    main script: ``in:`` filters on core and extra properties, repeated tags, member_status with
    visibility, ISO 8601 forms in time filters, multi-key sorts and invalid sort mixes, markers
    of deleted images, PATCH values of the wrong type, visibility transitions by role, long and
    unicode properties, member corner cases, HEAD, Accept variants, trailing slashes, upper-case
    ids in paths and a client-supplied request id. Its images carry the tag ``{tag}-x`` and
    run after every other list, so they change no other step's answer."""
    s: list[Step] = []
    add = s.append
    xt = "tag={tag}-x"

    def ex(name: str, method: str, path: str, who: str | None = "A", **kw: Any) -> Step:
        return Step("extra", name, method, path, who, **kw)

    def lst(name: str, query: str, who: str = "A") -> Step:
        return ex(f"list_{name}", "GET", f"/v2/images?{query}", who)

    def pt(name: str, img: str, ops: Any, who: str = "A") -> Step:
        return ex(f"patch_{name}", "PATCH", f"/v2/images/{{img:{img}}}", who,
                  body=json.dumps(ops).encode(), content_type=PATCH_CT)

    def mk(key: str, who: str = "A", **attrs: Any) -> Step:
        body = {"id": f"{{img:{key}}}", "name": key, "tags": ["{tag}-x"], **attrs}
        return ex(f"create_{key}", "POST", "/v2/images", who, json=body)

    add(mk("xa", disk_format="raw", container_format="bare", xprop="v1", min_ram=64))
    add(mk("xb", disk_format="qcow2", container_format="bare", xprop="v2",
           tags=["{tag}-x", "t2"]))
    add(mk("xh", os_hidden=True, xprop="v3"))
    add(mk("xsh", visibility="shared", disk_format="raw", container_format="bare"))
    add(mk("xdel"))
    add(mk("xdup_tags", tags=["{tag}-x", "d", "d", "D"]))
    add(mk("xempty_tag", tags=["{tag}-x", ""]))
    add(ex("create_charset", "POST", "/v2/images", "A",
           body=b'{"name": "cs", "tags": ["{tag}-x"], "id": "{img:xcs}"}',
           content_type="application/json; charset=UTF-8"))
    add(ex("delete_xdel", "DELETE", "/v2/images/{img:xdel}"))
    add(ex("upload_xa", "PUT", "/v2/images/{img:xa}/file", body=DATA, content_type=OCTET))
    add(ex("upload_xsh", "PUT", "/v2/images/{img:xsh}/file", body=DATA2, content_type=OCTET))

    # --- list filters ---------------------------------------------------------------
    for nm, query in {
        "name_in_quoted": f'name=in:"xa,xb"&{xt}',
        "name_in_plain": f"name=in:xa,xb&{xt}",
        "name_in_one_quoted": f'name=in:"xa",xb&{xt}',
        "name_in_empty": f"name=in:&{xt}",
        "name_eq_op": f"name=eq:xa&{xt}",
        "status_in": f"status=in:queued,active&{xt}",
        "status_in_bogus": f"status=in:queued,bogus&{xt}",
        "status_upper": f"status=ACTIVE&{xt}",
        "disk_format_in": f"disk_format=in:raw,qcow2&{xt}",
        "disk_format_bogus": f"disk_format=bogus&{xt}",
        "container_format_bogus": f"container_format=bogus&{xt}",
        "prop": f"xprop=v1&{xt}",
        "prop_in": f"xprop=in:v1,v2&{xt}",
        "prop_in_quoted": f'xprop=in:"v1",v3&{xt}',
        "prop_neq": f"xprop=neq:v1&{xt}",
        "tag_repeated": f"{xt}&tag=t2",
        "tag_same_twice": f"{xt}&{xt}",
        "tag_in": "tag=in:{tag}-x,t2",
        "os_hidden_true": f"os_hidden=true&{xt}",
        "os_hidden_1": f"os_hidden=1&{xt}",
        "os_hidden_empty": f"os_hidden=&{xt}",
        "owner_self": f"owner={{proj:A}}&{xt}",
        "owner_other_by_B": f"owner={{proj:A}}&{xt}",
        "owner_in": f"owner=in:{{proj:A}},{{proj:B}}&{xt}",
        "protected_false": f"protected=false&{xt}",
        "protected_true": f"protected=true&{xt}",
        "protected_bad": f"protected=1&{xt}",
        "protected_empty": f"protected=&{xt}",
        "size_max_bad": "size_max=abc",
        "size_max_negative": "size_max=-5",
        "size_max_empty": "size_max=",
        "size_min_huge": f"size_min=99999999999999999999&{xt}",
        "size_min_exp": "size_min=1e3",
        "size_min_max_equal": f"size_min=1054&size_max=1054&{xt}",
        "min_ram_bad": "min_ram=abc",
        "min_ram_gte": f"min_ram=gte:64&{xt}",
        "virtual_size": f"virtual_size=5&{xt}",
        "id_in": f"id=in:{{img:xa}},{{img:xb}}&{xt}",
        "id_upper": f"id={{IMG:xa}}&{xt}",
        "visibility_shared_all_B": f"visibility=shared&member_status=all&{xt}",
        "visibility_shared_pending_B": f"visibility=shared&member_status=pending&{xt}",
        "visibility_all_member_all_B": f"visibility=all&member_status=all&{xt}",
        "visibility_community_ms_all": f"visibility=community&member_status=all&{xt}",
        "member_status_upper": f"member_status=ALL&{xt}",
    }.items():
        add(lst(nm, query, who="B" if nm.endswith("_B") else "A"))
    for nm, value in {
        "z": "2000-01-01T00:00:00Z",
        "no_tz": "2000-01-01T00:00:00",
        "date_only": "2000-01-01",
        "offset": "2000-01-01T00:00:00%2B02:00",
        "offset_raw_plus": "2000-01-01T00:00:00+02:00",
        "offset_no_colon": "2000-01-01T00:00:00%2B0200",
        "micro": "2000-01-01T00:00:00.123456Z",
        "basic": "20000101T000000Z",
        "space": "2000-01-01%2000:00:00",
        "month_13": "2000-13-01T00:00:00Z",
        "empty": "",
        "year_only": "2000",
        "future": "2100-01-01T00:00:00Z",
    }.items():
        add(lst(f"created_gte_{nm}", f"created_at=gte:{value}&{xt}"))
    for nm, value in {
        "lt_future": "lt:2100-01-01T00:00:00Z",
        "lte_past": "lte:2000-01-01T00:00:00Z",
        "eq": "eq:2000-01-01T00:00:00Z",
        "neq": "neq:2000-01-01T00:00:00Z",
        "in": "in:2000-01-01T00:00:00Z",
        "lt_no_value": "lt:",
        "bad": "lt:notadate",
    }.items():
        add(lst(f"updated_{nm}", f"updated_at={value}&{xt}"))
    for nm, value in {
        "past": "2000-01-01T00:00:00Z",
        "future": "2100-01-01T00:00:00Z",
        "bad": "notadate",
        "date_only": "2000-01-01",
        "empty": "",
    }.items():
        add(lst(f"changes_since_{nm}", f"changes-since={value}&{xt}"))
    # --- sorting ------------------------------------------------------------------------
    for nm, query in {
        "name_name": "sort=name:asc,name:desc",
        "key_key_same": "sort_key=name&sort_key=name",
        "status_name": "sort=status,name:desc",
        "three_parts": "sort=name:asc:x",
        "no_key": "sort=:asc",
        "empty_dir": "sort=name:",
        "new_and_dir": "sort=name:asc&sort_dir=asc",
        "one_dir_two_keys": "sort_key=created_at&sort_dir=asc&sort_key=name",
        "updated_at": "sort_key=updated_at&sort_dir=asc",
        "size_asc": "sort_key=size&sort_dir=asc",
        "min_ram_id": "sort=min_ram:desc,id:asc",
        "os_hidden": "sort=os_hidden",
        "visibility": "sort_key=visibility",
        "disk_container": "sort=disk_format:asc,container_format:desc,name",
        "dir_upper": "sort_key=name&sort_dir=ASC",
        "new_dir_upper": "sort=name:DESC",
        "key_upper": "sort_key=NAME",
        "spaces": "sort=name%3Aasc%2C%20size%3Adesc",
        "trailing_comma": "sort=name,",
        "custom_prop_new": "sort=xprop:asc",
        "owner": "sort_key=owner",
        "checksum": "sort=checksum",
    }.items():
        add(lst(f"sort_{nm}", f"{query}&{xt}"))
    # --- pagination -------------------------------------------------------------------
    add(lst("marker_deleted", f"marker={{img:xdel}}&{xt}"))
    add(lst("marker_deleted_admin", f"marker={{img:xdel}}&{xt}", who="admin"))
    add(lst("marker_hidden", f"marker={{img:xh}}&{xt}"))
    add(lst("marker_upper", f"marker={{IMG:xb}}&{xt}"))
    add(lst("marker_empty", f"marker=&{xt}"))
    add(lst("limit_0_marker", f"limit=0&marker={{img:xb}}&{xt}"))
    add(lst("limit_1_sorted", f"limit=1&sort=name:asc&{xt}"))
    add(lst("limit_plus", f"limit=%2B2&{xt}"))
    add(lst("limit_spaces", f"limit=%202&{xt}"))
    # --- PATCH value types ---------------------------------------------------------------
    for nm, path, value in (
        ("os_hidden_yes", "/os_hidden", "yes"),
        ("os_hidden_1", "/os_hidden", 1),
        ("os_hidden_str_true", "/os_hidden", "true"),
        ("protected_str_false", "/protected", "false"),
        ("protected_1", "/protected", 1),
        ("protected_null", "/protected", None),
        ("min_ram_str_num", "/min_ram", "512"),
        ("min_ram_float", "/min_ram", 1.5),
        ("min_ram_null", "/min_ram", None),
        ("min_ram_true", "/min_ram", True),
        ("min_disk_null", "/min_disk", None),
        ("min_disk_huge", "/min_disk", 2**31),
        ("disk_format_null", "/disk_format", None),
        ("container_format_null", "/container_format", None),
        ("name_unicode", "/name", "\u00e9t\u00e9 \u2603 \U0001F600"),
        ("name_255", "/name", "n" * 255),
        ("name_empty", "/name", ""),
        ("prop_key_255", "/" + "k" * 255, "v"),
        ("prop_value_65535", "/longv", "v" * 65535),
        ("prop_value_65536", "/longv2", "v" * 65536),
        ("prop_unicode_key", "/\u00e9t\u00e9", "\u2603"),
        ("prop_4byte_value", "/four", "\U0001F600"),
        ("prop_4byte_key", "/\U0001F600", "x"),
        ("prop_null_value", "/nullv", None),
        ("prop_bool_value", "/boolv", True),
        ("tags_dup", "/tags", ["{tag}-x", "a", "a"]),
        ("tags_too_long", "/tags", ["{tag}-x", "t" * 256]),
        ("tags_255", "/tags", ["{tag}-x", "t" * 255]),
        ("tags_empty_string", "/tags", ["{tag}-x", ""]),
        ("tags_number", "/tags", ["{tag}-x", 5]),
        ("tags_null", "/tags", None),
        ("visibility_null", "/visibility", None),
        ("owner_null_admin", "/owner", None),
    ):
        add(pt(nm, "xb", [{"op": "replace" if nm != "prop_key_255" and "prop_" not in nm
                           else "add", "path": path, "value": value}],
               who="admin" if nm.endswith("_admin") else "A"))
    add(ex("show_xb", "GET", "/v2/images/{img:xb}"))
    # Requests Glance answers differently only because of its SQLite column widths or a
    # nameless property, on a throw-away image (deleted again) so they change nothing else.
    add(mk("xjunk", visibility="shared", tags=[]))
    add(pt("prop_key_256", "xjunk", [{"op": "add", "path": "/" + "k" * 256, "value": "v"}]))
    add(pt("prop_empty_key", "xjunk", [{"op": "add", "path": "/", "value": "x"}]))
    add(ex("member_add_long", "POST", "/v2/images/{img:xjunk}/members",
           json={"member": "m" * 256}))
    add(Step("cleanup", "x_xjunk", "DELETE", "/v2/images/{img:xjunk}", "A", compare=False))
    add(mk("x4byte_name", name="\U0001F600"))
    add(mk("x4byte_prop", four="\U0001F600"))
    # visibility transitions by role
    for nm, vis, who in (
        ("vis_shared_member", "shared", "A"),
        ("vis_community_member", "community", "A"),
        ("vis_public_reader", "public", "readerA"),
        ("vis_public_admin", "public", "admin"),
        ("vis_private_from_public_member", "private", "A"),
        ("vis_private_admin", "private", "admin"),
        ("vis_shared_by_B", "shared", "B"),
    ):
        add(pt(nm, "xa", [{"op": "replace", "path": "/visibility", "value": vis}], who=who))
    add(pt("vis_add_op", "xa", [{"op": "add", "path": "/visibility", "value": "shared"}]))
    add(pt("vis_remove_op", "xa", [{"op": "remove", "path": "/visibility"}]))
    add(pt("os_hidden_remove", "xa", [{"op": "remove", "path": "/os_hidden"}]))
    add(pt("protected_remove", "xa", [{"op": "remove", "path": "/protected"}]))
    add(pt("name_add_op", "xa", [{"op": "add", "path": "/name", "value": "xa"}]))
    add(pt("tags_add_op", "xa", [{"op": "add", "path": "/tags", "value": ["{tag}-x"]}]))
    add(pt("tags_remove_op", "xa", [{"op": "remove", "path": "/tags"}]))
    add(pt("tags_restore", "xa", [{"op": "replace", "path": "/tags", "value": ["{tag}-x"]}]))
    # --- members ------------------------------------------------------------------------
    mp = "/v2/images/{img:xsh}/members"
    add(ex("member_add_B", "POST", mp, json={"member": "{proj:B}"}))
    add(ex("member_add_B_again", "POST", mp, json={"member": "{proj:B}"}))
    add(ex("member_add_self", "POST", mp, json={"member": "{proj:A}"}))
    add(ex("member_add_by_admin", "POST", mp, "admin", json={"member": "{proj:C}"}))
    add(ex("member_add_empty", "POST", mp, json={"member": ""}))
    add(ex("member_list_non_member", "GET", mp, "ADM_NONE"))
    add(ex("member_show_non_member", "GET", f"{mp}/{{proj:B}}", "ADM_NONE"))
    add(ex("member_delete_non_member", "DELETE", f"{mp}/{{proj:B}}", "ADM_NONE"))
    add(ex("member_put_owner", "PUT", f"{mp}/{{proj:B}}", json={"status": "accepted"}))
    add(ex("member_put_pending", "PUT", f"{mp}/{{proj:B}}", "B", json={"status": "pending"}))
    add(ex("member_put_accept", "PUT", f"{mp}/{{proj:B}}", "B", json={"status": "accepted"}))
    add(ex("member_put_upper", "PUT", f"{mp}/{{proj:B}}", "B", json={"status": "ACCEPTED"}))
    add(ex("member_put_extra_key", "PUT", f"{mp}/{{proj:B}}", "B",
           json={"status": "accepted", "x": 1}))
    add(ex("member_put_by_admin", "PUT", f"{mp}/{{proj:C}}", "admin",
           json={"status": "rejected"}))
    add(ex("member_show_C_by_C", "GET", f"{mp}/{{proj:C}}", "C"))
    add(lst("shared_all_C", f"visibility=shared&member_status=all&{xt}", who="C"))
    add(lst("shared_default_B", f"visibility=shared&{xt}", who="B"))
    add(ex("member_list_by_member", "GET", mp, "B"))
    add(ex("members_upper_image", "GET", "/v2/images/{IMG:xsh}/members"))
    # --- deactivated downloads ---------------------------------------------------------
    add(ex("deactivate_xsh", "POST", "/v2/images/{img:xsh}/actions/deactivate", "admin"))
    add(ex("download_deact_member", "GET", "/v2/images/{img:xsh}/file", "B"))
    add(ex("download_deact_owner", "GET", "/v2/images/{img:xsh}/file", "A"))
    add(ex("download_deact_admin", "GET", "/v2/images/{img:xsh}/file", "admin"))
    add(ex("download_deact_head_admin", "HEAD", "/v2/images/{img:xsh}/file", "admin",
           skip_body=True))
    add(ex("reactivate_xsh", "POST", "/v2/images/{img:xsh}/actions/reactivate", "admin"))
    # --- HEAD ----------------------------------------------------------------------------
    for nm, path in (
        ("image_missing", "/v2/images/{newid}"),
        ("file_queued", "/v2/images/{img:xb}/file"),
        ("file_active", "/v2/images/{img:xa}/file"),
        ("file_missing", "/v2/images/{newid}/file"),
        ("members", "/v2/images/{img:xsh}/members"),
        ("schema", "/v2/schemas/image"),
        ("info_import", "/v2/info/import"),
        ("versions", "/versions"),
    ):
        add(ex(f"head_{nm}", "HEAD", path, skip_body=True))
    # --- Accept variants ----------------------------------------------------------------
    for nm, accept in (
        ("q_values", "application/json;q=0.5, text/html;q=0.9"),
        ("text_any", "text/*"),
        ("vendor_json", "application/vnd.openstack.images-v2.1+json"),
        ("octet", "application/octet-stream"),
        ("garbage", "garbage"),
        ("none_q", "*/*;q=0"),
    ):
        add(ex(f"accept_{nm}_list", "GET", f"/v2/images?{xt}", headers={"Accept": accept}))
        add(ex(f"accept_{nm}_404", "GET", "/v2/images/{newid}", headers={"Accept": accept}))
    add(ex("accept_json_download", "GET", "/v2/images/{img:xa}/file",
           headers={"Accept": "application/json"}))
    # --- trailing slashes and upper-case ids ------------------------------------------------
    for nm, method, path in (
        ("images", "GET", f"/v2/images/?{xt}"),
        ("images_post", "POST", "/v2/images/"),
        ("image", "GET", "/v2/images/{img:xa}/"),
        ("file", "GET", "/v2/images/{img:xa}/file/"),
        ("members", "GET", "/v2/images/{img:xsh}/members/"),
        ("schema", "GET", "/v2/schemas/image/"),
        ("info_import", "GET", "/v2/info/import/"),
        ("double_slash", "GET", "//v2/images?" + xt),
        ("inner_double_slash", "GET", "/v2//images?" + xt),
    ):
        add(ex(f"slash_{nm}", method, path, json={"name": "s"} if method == "POST" else None))
    add(ex("upper_show", "GET", "/v2/images/{IMG:xa}"))
    add(ex("upper_file", "GET", "/v2/images/{IMG:xa}/file"))
    add(ex("upper_patch", "PATCH", "/v2/images/{IMG:xa}",
           body=b'[{"op": "add", "path": "/up", "value": "1"}]', content_type=PATCH_CT))
    add(ex("upper_tag", "PUT", "/v2/images/{IMG:xa}/tags/up"))
    add(ex("upper_create_id", "POST", "/v2/images",
           json={"id": "{IMG:xup}", "name": "up", "tags": ["{tag}-x"]}))
    add(ex("upper_delete", "DELETE", "/v2/images/{IMG:xempty_tag}"))
    # --- request ids ------------------------------------------------------------------------
    add(ex("request_id_req_form", "GET", f"/v2/images?{xt}",
           headers={"X-Openstack-Request-Id": "req-11111111-2222-4333-8444-555555555555"}))
    add(ex("request_id_other_form", "GET", f"/v2/images?{xt}",
           headers={"X-Openstack-Request-Id": "my-request-1"}))
    add(ex("request_id_on_error", "GET", "/v2/images/{newid}",
           headers={"X-Openstack-Request-Id": "req-11111111-2222-4333-8444-555555555555"}))
    # --- round 2: what the CLIs and Nova send besides ------------------------------------
    add(mk("y1", disk_format="raw", container_format="bare", image_type="snapshot",
           instance_uuid="{newid}", base_image_ref="", bdm_v2="True", min_disk=1,
           block_device_mapping='[{"boot_index": 0}]'))
    add(mk("y2", disk_format="raw", container_format="bare"))
    add(mk("y3", disk_format="raw", container_format="bare"))
    add(ex("y_show_by_name", "GET", "/v2/images/y1"))
    add(ex("y_show_name_spaces", "GET", "/v2/images/my%20image"))
    add(lst("y_by_name", f"name=y1&{xt}"))
    add(lst("y_by_prop_true_string", f"bdm_v2=True&{xt}"))
    add(lst("y_by_prop_empty", f"base_image_ref=&{xt}"))
    add(lst("y_horizon", f"sort_key=created_at&sort_dir=desc&limit=21&paginate=True&{xt}"))
    add(lst("y_horizon_shared", f"visibility=shared&member_status=all&paginate=True&{xt}"))
    add(lst("y_changes_since_op", f"changes-since=gt:2000-01-01T00:00:00Z&{xt}"))
    add(lst("y_public_owner", f"visibility=public&owner={{proj:A}}&{xt}"))
    add(lst("y_sort_marker_asc", f"sort_key=created_at&sort_dir=asc&marker={{img:y2}}&{xt}"))
    add(lst("y_fields", f"fields=id,name&{xt}"))
    add(ex("y_show_fields", "GET", "/v2/images/{img:y1}?fields=name"))
    add(ex("y_patch_charset", "PATCH", "/v2/images/{img:y1}",
           body=b'[{"op": "replace", "path": "/name", "value": "y1"}]',
           content_type=PATCH_CT + "; charset=UTF-8"))
    add(ex("y_patch_same_value", "PATCH", "/v2/images/{img:y1}",
           body=b'[{"op": "replace", "path": "/bdm_v2", "value": "True"}]',
           content_type=PATCH_CT))
    add(pt("y_vis_same_private_reader", "y1",
           [{"op": "replace", "path": "/visibility", "value": "private"}], who="readerA"))
    add(pt("y_vis_public_admin", "y3",
           [{"op": "replace", "path": "/visibility", "value": "public"}], who="admin"))
    add(pt("y_vis_public_again_member", "y3",
           [{"op": "replace", "path": "/visibility", "value": "public"}]))
    add(pt("y_vis_public_name_member", "y3",
           [{"op": "replace", "path": "/name", "value": "y3"}]))
    add(pt("y_vis_private_member", "y3",
           [{"op": "replace", "path": "/visibility", "value": "private"}]))
    add(pt("y_vis_community_twice", "y3",
           [{"op": "replace", "path": "/visibility", "value": "community"},
            {"op": "replace", "path": "/visibility", "value": "community"}]))
    add(pt("y_vis_community_then_private", "y3",
           [{"op": "replace", "path": "/visibility", "value": "community"},
            {"op": "replace", "path": "/visibility", "value": "private"}]))
    add(ex("y_upload_store_header", "PUT", "/v2/images/{img:y1}/file", body=DATA2,
           content_type=OCTET, headers={"X-Image-Meta-Store": "fs"}))
    add(ex("y_upload_unknown_store", "PUT", "/v2/images/{img:y2}/file", body=DATA2,
           content_type=OCTET, headers={"X-Image-Meta-Store": "nope"}))
    add(ex("y_show_after_bad_store", "GET", "/v2/images/{img:y2}"))
    add(ex("y_upload_octet_charset", "PUT", "/v2/images/{img:y2}/file", body=DATA2,
           content_type=OCTET + "; charset=binary"))
    add(ex("y_download_if_none_match", "GET", "/v2/images/{img:y1}/file",
           headers={"If-None-Match": "*"}))
    # Glance decodes a tag in the path as Latin-1 (see images.tags.add_unicode): throw-away image
    add(mk("yjunk", tags=[]))
    add(ex("y_tag_4byte", "PUT", "/v2/images/{img:yjunk}/tags/%F0%9F%98%80"))
    add(Step("cleanup", "x_yjunk", "DELETE", "/v2/images/{img:yjunk}", "A", compare=False))
    add(ex("y_tag_slash", "PUT", "/v2/images/{img:y1}/tags/a%2Fb"))
    add(ex("y_tag_space", "PUT", "/v2/images/{img:y1}/tags/a%20b"))
    add(ex("y_tag_delete_other_project", "DELETE", "/v2/images/{img:y1}/tags/{tag}-x", "B"))
    add(ex("y_show_tags", "GET", "/v2/images/{img:y1}"))
    add(ex("y_request_id_too_long", "GET", f"/v2/images?{xt}",
           headers={"X-Openstack-Request-Id": "req-" + "a" * 300}))
    add(ex("y_roles_admin_capital_list", "GET", f"/v2/images?{xt}", None,
           headers={"X-Identity-Status": "Confirmed", "X-User-Id": "someone",
                    "X-Project-Id": "{proj:A}", "X-Roles": "Admin"}))
    add(ex("y_member_add_deactivated", "POST", "/v2/images/{img:y1}/members",
           json={"member": "{proj:B}"}))
    add(pt("y_to_shared", "y1", [{"op": "replace", "path": "/visibility", "value": "shared"}]))
    add(ex("y_deactivate", "POST", "/v2/images/{img:y1}/actions/deactivate", "admin"))
    add(ex("y_member_add_on_deactivated", "POST", "/v2/images/{img:y1}/members",
           json={"member": "{proj:C}"}))
    add(ex("y_member_accept_own_on_deactivated", "PUT",
           "/v2/images/{img:y1}/members/{proj:C}", "C", json={"status": "accepted"}))
    add(ex("y_tag_on_deactivated", "PUT", "/v2/images/{img:y1}/tags/z"))
    add(ex("y_delete_tag_on_deactivated", "DELETE", "/v2/images/{img:y1}/tags/z"))
    add(ex("y_reactivate", "POST", "/v2/images/{img:y1}/actions/reactivate", "admin"))
    add(ex("y_import_store_header", "POST", "/v2/images/{img:y2}/import",
           json={"method": {"name": "glance-direct"}}, headers={"X-Image-Meta-Store": "nope"}))
    add(ex("y_import_all_stores_must_succeed", "POST", "/v2/images/{img:y2}/import",
           json={"method": {"name": "copy-image"}, "all_stores_must_succeed": "no"}))
    add(ex("y_import_method_not_dict", "POST", "/v2/images/{img:y2}/import",
           json={"method": "glance-direct"}))
    add(ex("y_import_stores_not_list", "POST", "/v2/images/{img:y2}/import",
           json={"method": {"name": "copy-image"}, "stores": "fs"}))
    add(lst("y_final", xt))
    for nm in ("y1", "y2", "y3"):
        add(Step("cleanup", f"x_{nm}", "DELETE", f"/v2/images/{{img:{nm}}}", "admin",
                 compare=False))
    # --- round 3: next links, create bodies, more list parameters -----------------------
    add(mk("z1", disk_format="raw", container_format="bare", zp="a b"))
    add(mk("z2", name="z\u00e9 2", disk_format="qcow2", container_format="bare", zp="a,b"))
    add(mk("z3", visibility="shared", zp="\u00e9"))
    for nm, query in {
        "next_many_params": 'limit=1&sort=name:asc,created_at:desc&visibility=private'
                            f'&member_status=accepted&name=in:"z1","z%C3%A9%202"&{xt}',
        "next_two_keys_dirs": f"limit=1&sort_key=name&sort_key=id&sort_dir=asc&sort_dir=desc&{xt}",
        "next_unicode_name": f"limit=1&name=z%C3%A9%202&{xt}",
        "next_prop_space": f"limit=1&zp=a%20b&{xt}",
        "next_prop_comma": f"limit=1&zp=a,b&{xt}",
        "next_prop_unicode": f"limit=1&zp=%C3%A9&{xt}",
        "next_repeated_tag": f"limit=1&{xt}&tag={{tag}}-x",
        "next_empty_tag": f"limit=1&{xt}&tag=",
        "next_unknown_param": f"limit=1&foo=&{xt}",
        "next_created_at": f"limit=1&created_at=gte:2000-01-01T00:00:00Z&{xt}",
        "next_plus_in_value": f"limit=1&created_at=gte:2000-01-01T00:00:00%2B00:00&{xt}",
        "next_marker_given": f"limit=1&marker={{img:z3}}&{xt}",
        "next_limit_default": f"{xt}&limit=",
        "id_in_empty": f"id=in:&{xt}",
        "name_in_commas": f"name=in:,&{xt}",
        "status_in_empty": f"status=in:&{xt}",
        "tag_empty_repeated": f"{xt}&tag=&tag=",
        "is_public_v1": f"is_public=true&{xt}",
        "property_prefix_v1": f"property-zp=a%20b&{xt}",
        "deleted_true": f"deleted=true&{xt}",
        "visibility_shared_owner": f"visibility=shared&owner={{proj:A}}&{xt}",
        "member_status_all_no_vis_C": f"member_status=all&{xt}",
        "sort_dir_desc_default_key": f"sort_dir=asc&limit=1&{xt}",
    }.items():
        add(lst(f"z_{nm}", query, who="C" if nm.endswith("_C") else "A"))
    add(ex("z_images_question_mark", "GET", "/v2/images?"))
    for nm, extra in {
        "os_hidden_null": {"os_hidden": None},
        "protected_null": {"protected": None},
        "visibility_null": {"visibility": None},
        "name_empty": {"name": ""},
        "container_null": {"container_format": None},
        "tags_null": {"tags": None},
        "tags_empty": {"tags": []},
        "owner_null": {"owner": None},
        "id_null": {"id": None},
        "min_ram_float": {"min_ram": 1.0},
        "min_ram_bool": {"min_ram": True},
        "prop_empty_value": {"zz": ""},
        "prop_4byte_key": {"\U0001F600": "x"},
        "prop_object": {"zz": {"a": 1}},
        "prop_bool": {"zz": True},
        "visibility_community_reader": {"visibility": "community"},
        "tags_4byte": {"tags": ["\U0001F600"]},
        "tags_comma": {"tags": ["a,b"]},
        "name_4byte_and_bad_format": {"name": "\U0001F600", "disk_format": "nope"},
        "member_key": {"member": "x"},
        "stores_key": {"stores": "fs"},
    }.items():
        who = "readerA" if nm.endswith("_reader") else "A"
        add(ex(f"zc_{nm}", "POST", "/v2/images", who, json={"name": nm, **extra},
               save=f"maybe_zc_{nm}"))
        add(Step("cleanup", f"zc_{nm}", "DELETE", f"/v2/images/{{img:maybe_zc_{nm}}}", "admin",
                 compare=False))
    # members on a private image and by admin
    add(ex("z_member_add_private", "POST", "/v2/images/{img:z1}/members",
           json={"member": "{proj:B}"}))
    add(ex("z_member_add_1", "POST", "/v2/images/{img:z3}/members", json={"member": "{proj:B}"}))
    add(ex("z_member_add_2", "POST", "/v2/images/{img:z3}/members", json={"member": "{proj:C}"}))
    add(ex("z_member_add_3", "POST", "/v2/images/{img:z3}/members", json={"member": "{proj:D}"}))
    add(ex("z_member_list_3", "GET", "/v2/images/{img:z3}/members"))
    add(ex("z_member_delete_admin", "DELETE", "/v2/images/{img:z3}/members/{proj:D}", "admin"))
    add(ex("z_member_show_by_owner_after_delete", "GET",
           "/v2/images/{img:z3}/members/{proj:D}"))
    add(ex("z_member_put_owner_self", "PUT", "/v2/images/{img:z3}/members/{proj:A}",
           json={"status": "accepted"}))
    add(ex("z_member_put_empty_body", "PUT", "/v2/images/{img:z3}/members/{proj:B}", "B",
           body=b"", content_type="application/json"))
    add(ex("z_member_put_not_json", "PUT", "/v2/images/{img:z3}/members/{proj:B}", "B",
           body=b"accepted", content_type="application/json"))
    add(ex("z_member_put_status_null", "PUT", "/v2/images/{img:z3}/members/{proj:B}", "B",
           json={"status": None}))
    add(ex("z_member_post_list_body", "POST", "/v2/images/{img:z3}/members", json=["x"]))
    # An empty upload: ours records no store and, chunked, no checksums (see
    # images.upload.show_empty), so on a throw-away image.
    add(mk("zjunk", tags=[], disk_format="raw", container_format="bare"))
    add(ex("z_upload_chunked_empty", "PUT", "/v2/images/{img:zjunk}/file", body=b"",
           content_type=OCTET, chunked=True))
    add(ex("z_show_chunked_empty", "GET", "/v2/images/{img:zjunk}"))
    add(Step("cleanup", "x_zjunk", "DELETE", "/v2/images/{img:zjunk}", "A", compare=False))
    add(ex("z_download_gzip", "GET", "/v2/images/{img:xa}/file",
           headers={"Accept-Encoding": "gzip"}))
    add(ex("z_head_range", "HEAD", "/v2/images/{img:xa}/file", headers={"Range": "bytes=0-9"},
           skip_body=True))
    add(lst("z_final", xt))
    for nm in ("z1", "z2", "z3"):
        add(Step("cleanup", f"x_{nm}", "DELETE", f"/v2/images/{{img:{nm}}}", "admin",
                 compare=False))
    # --- round 4: NULL and tie ordering through pages ---------------------------------------
    add(ex("w_create_null_name", "POST", "/v2/images", json={
        "id": "{img:w1}", "name": None, "tags": ["{tag}-w"], "min_ram": 5}))
    add(ex("w_create_empty_name", "POST", "/v2/images", json={
        "id": "{img:w2}", "name": "", "tags": ["{tag}-w"], "min_ram": 5}))
    add(mk("w3", name="w", tags=["{tag}-w"], min_ram=5, disk_format="raw",
           container_format="bare"))
    add(mk("w4", name="w", tags=["{tag}-w"], disk_format="raw", container_format="bare"))
    add(ex("w_upload_w3", "PUT", "/v2/images/{img:w3}/file", body=DATA2, content_type=OCTET))
    wt = "tag={tag}-w"
    for nm, query in {
        "name_asc": f"sort=name:asc&{wt}",
        "name_desc": f"sort=name:desc&{wt}",
        "name_asc_page_null": f"sort=name:asc&limit=1&marker={{img:w1}}&{wt}",
        "name_desc_page_null": f"sort=name:desc&limit=2&marker={{img:w1}}&{wt}",
        "name_asc_page_empty": f"sort=name:asc&limit=1&marker={{img:w2}}&{wt}",
        "size_asc": f"sort=size:asc&{wt}",
        "size_desc_page_null": f"sort=size:desc&marker={{img:w4}}&{wt}",
        "size_asc_page_active": f"sort=size:asc&marker={{img:w3}}&{wt}",
        "min_ram_ties_page": f"sort=min_ram:desc&limit=1&marker={{img:w2}}&{wt}",
        "min_ram_ties_page_asc": f"sort=min_ram:asc,name:asc&limit=2&marker={{img:w3}}&{wt}",
        "checksum_asc": f"sort_key=checksum&sort_dir=asc&{wt}",
        "disk_format_null_asc": f"sort=disk_format:asc&{wt}",
        "disk_format_null_page": f"sort=disk_format:asc&marker={{img:w1}}&{wt}",
        "name_empty_filter": f"name=&{wt}",
        "name_in_empty_item": f'name=in:"",w&{wt}',
        "name_null_word": f"name=None&{wt}",
        "os_hidden_false": f"os_hidden=false&{wt}",
        "status_queued_sorted": f"status=queued&sort=name:desc,id:asc&{wt}",
    }.items():
        add(lst(f"w_{nm}", query))
    for nm in ("w1", "w2", "w3", "w4"):
        add(Step("cleanup", f"x_{nm}", "DELETE", f"/v2/images/{{img:{nm}}}", "admin",
                 compare=False))
    # --- round 5: roles, odd paths, data on odd states --------------------------------------
    add(mk("v1", disk_format="qcow2", container_format="bare", tags=[]))
    add(ex("v_upload_empty_qcow2_chunked", "PUT", "/v2/images/{img:v1}/file", body=b"",
           content_type=OCTET, chunked=True))
    add(ex("v_show_v1", "GET", "/v2/images/{img:v1}"))
    add(Step("cleanup", "x_v1", "DELETE", "/v2/images/{img:v1}", "admin", compare=False))
    add(mk("v2", disk_format="qcow2", container_format="bare", tags=[]))
    add(ex("v_upload_empty_qcow2", "PUT", "/v2/images/{img:v2}/file", body=b"",
           content_type=OCTET))
    add(ex("v_show_v2", "GET", "/v2/images/{img:v2}"))
    add(Step("cleanup", "x_v2", "DELETE", "/v2/images/{img:v2}", "admin", compare=False))
    add(mk("v3", disk_format="raw", container_format="bare"))
    member_only = {"X-Identity-Status": "Confirmed", "X-User-Id": "someone",
                   "X-Project-Id": "{proj:A}", "X-Roles": "member"}
    reader_only = {**member_only, "X-Roles": "reader"}
    service = {**member_only, "X-Roles": "member,reader", "X-Service-Roles": "service"}
    add(ex("v_member_role_only_list", "GET", f"/v2/images?{xt}", None, headers=member_only))
    add(ex("v_member_role_only_show", "GET", "/v2/images/{img:v3}", None, headers=member_only))
    add(ex("v_member_role_only_patch", "PATCH", "/v2/images/{img:v3}", None,
           headers=member_only, body=b'[{"op": "add", "path": "/m", "value": "1"}]',
           content_type=PATCH_CT))
    add(ex("v_reader_role_only_upload", "PUT", "/v2/images/{img:v3}/file", None,
           headers=reader_only, body=DATA2, content_type=OCTET))
    add(ex("v_service_roles_list", "GET", f"/v2/images?{xt}", None, headers=service))
    add(ex("v_upload_v3", "PUT", "/v2/images/{img:v3}/file", body=DATA2, content_type=OCTET))
    add(ex("v_reader_role_only_download", "GET", "/v2/images/{img:v3}/file", None,
           headers=reader_only))
    add(ex("v_stage_active", "PUT", "/v2/images/{img:v3}/stage", body=DATA2,
           content_type=OCTET))
    add(ex("v_import_web_download_active", "POST", "/v2/images/{img:v3}/import",
           json={"method": {"name": "web-download", "uri": "http://127.0.0.1:1/x"}}))
    add(ex("v_copy_image_all_stores_admin", "POST", "/v2/images/{img:v3}/import", "admin",
           json={"method": {"name": "copy-image"}, "all_stores": True},
           settle=("/v2/images/{img:v3}", _import_finished)))
    add(ex("v_show_after_copy", "GET", "/v2/images/{img:v3}", poll_until=_import_finished))
    add(mk("v4", disk_format="raw", container_format="bare", tags=[]))
    add(ex("v_stage_json_ct", "PUT", "/v2/images/{img:v4}/stage", body=b"{}",
           content_type="application/json"))
    add(ex("v_stage_too_big_chunked", "PUT", "/v2/images/{img:v4}/stage",
           body=b"\0" * TOO_BIG, content_type=OCTET, chunked=True))
    add(ex("v_show_v4", "GET", "/v2/images/{img:v4}"))
    add(Step("cleanup", "x_v4", "DELETE", "/v2/images/{img:v4}", "admin", compare=False))
    add(ex("v_path_unicode_id", "GET", "/v2/images/%C3%A9"))
    add(ex("v_path_long_id", "GET", "/v2/images/" + "a" * 300))
    add(ex("v_path_long_id_file", "GET", "/v2/images/" + "a" * 300 + "/file"))
    add(ex("v_path_bad_utf8", "GET", "/v2/images/%FF"))
    add(ex("v_post_no_content_type", "POST", "/v2/images", body=b'{"name": "noct"}',
           content_type="", save="maybe_v_noct"))
    add(Step("cleanup", "x_v_noct", "DELETE", "/v2/images/{img:maybe_v_noct}", "admin",
             compare=False))
    add(ex("v_member_show_owner_project", "GET", "/v2/images/{img:xsh}/members/{proj:A}"))
    add(ex("v_deact_v3", "POST", "/v2/images/{img:v3}/actions/deactivate", "admin"))
    add(pt("v_remove_prop_deactivated", "v3", [{"op": "remove", "path": "/m"}]))
    add(pt("v_tags_deactivated", "v3", [{"op": "replace", "path": "/tags", "value": ["a"]}]))
    add(ex("v_delete_deactivated_admin", "DELETE", "/v2/images/{img:v3}", "admin"))
    add(ex("v_show_deleted_admin", "GET", "/v2/images/{img:v3}", "admin"))
    # --- round 6: task listing parameters (glance task-list) -------------------------------
    for nm, query in {
        "default": "",
        "status_bogus": "status=bogus",
        "status_success": "status=success",
        "type_import": "type=import",
        "type_bogus": "type=bogus",
        "sort_key_bogus": "sort_key=bogus",
        "sort_dir_bogus": "sort_dir=up",
        "sort_created_asc": "sort_key=created_at&sort_dir=asc",
        "limit_0": "limit=0",
        "limit_bad": "limit=abc",
        "marker_unknown": "marker={newid}",
        "marker_bad": "marker=abc",
    }.items():
        add(ex(f"t_tasks_{nm}", "GET", "/v2/tasks" + (f"?{query}" if query else ""), "admin",
               skip_body=not nm.endswith(("bogus", "bad", "unknown", "limit_0"))))
    add(ex("t_tasks_member", "GET", "/v2/tasks", "A", skip_body=True))
    add(ex("t_task_missing", "GET", "/v2/tasks/{newid}", "admin"))
    add(ex("t_task_post_member", "POST", "/v2/tasks", "A",
           json={"type": "import", "input": {}}))
    add(ex("t_task_post_admin_bad_type", "POST", "/v2/tasks", "admin",
           json={"type": "bogus", "input": {}}))
    # --- the end state, then clean up ----------------------------------------------------
    add(lst("final", xt))
    add(lst("final_admin", xt, who="admin"))
    for nm in ("xa", "xb", "xh", "xsh", "xdup_tags", "xempty_tag", "xcs", "xup", "x4byte_name",
               "x4byte_prop"):
        add(Step("cleanup", f"x_{nm}", "DELETE", f"/v2/images/{{img:{nm}}}", "admin",
                 compare=False))
    return s


def _metadef_steps() -> list[Step]:
    """Metadata definitions: namespaces, properties, objects, tags and resource types, by admin
    (the only writer by default), a member and a stranger; names carry the run's tag so runs
    against long-lived servers do not collide (lists keep only this run's entries)."""
    s: list[Step] = []
    ns_path = "/v2/metadefs/namespaces"
    ns = f"{ns_path}/{{tag}}-ns"
    rt = "CONF::{tag}::Image"

    def md(name: str, method: str, path: str, who: str | None = "admin", **kw: Any) -> Step:
        return Step("metadefs", name, method, path, who, **kw)

    full = {
        "namespace": "{tag}-ns", "display_name": "Conformance", "description": "d",
        "visibility": "public", "protected": True,
        "properties": {"p1": {"title": "P1", "type": "string", "enum": ["a", "b"],
                              "default": "a"},
                       "p2": {"title": "P2", "type": "integer", "minimum": 1,
                              "maximum": 10}},
        "objects": [{"name": "o1", "description": "obj", "required": ["q"],
                     "properties": {"q": {"title": "Q", "type": "boolean"}}}],
        "tags": [{"name": "t1"}, {"name": "t2"}],
        "resource_type_associations": [{"name": rt, "prefix": "hw_",
                                        "properties_target": "image"}],
    }
    add = s.append
    # namespaces
    add(md("ns_create", "POST", ns_path, json=full))
    add(md("ns_create_duplicate", "POST", ns_path, json={"namespace": "{tag}-ns"}))
    add(md("ns_create_member", "POST", ns_path, "A", json={"namespace": "{tag}-nsA"}))
    add(md("ns_create_no_name", "POST", ns_path, json={"display_name": "x"}))
    add(md("ns_create_bad_visibility", "POST", ns_path,
           json={"namespace": "{tag}-bad", "visibility": "everyone"}))
    add(md("ns_create_bad_type", "POST", ns_path, json={"namespace": 5}))
    add(md("ns_create_malformed", "POST", ns_path, body=b"{nope", content_type="application/json"))
    add(md("ns_create_readonly", "POST", ns_path,
           json={"namespace": "{tag}-ro", "created_at": "2020-01-01T00:00:00Z"}))
    add(md("ns_create_private", "POST", ns_path,
           json={"namespace": "{tag}-priv", "visibility": "private"}))
    add(md("ns_create_minimal", "POST", ns_path, json={"namespace": "{tag}-min"}))
    add(md("ns_show", "GET", ns))
    add(md("ns_show_member", "GET", ns, "A"))
    add(md("ns_show_prefixed", "GET", f"{ns}?resource_type={rt}"))
    add(md("ns_show_private_member", "GET", f"{ns_path}/{{tag}}-priv", "A"))
    add(md("ns_show_private_admin", "GET", f"{ns_path}/{{tag}}-priv"))
    add(md("ns_show_missing", "GET", f"{ns_path}/{{tag}}-none"))
    add(md("ns_list", "GET", ns_path))
    add(md("ns_list_member", "GET", ns_path, "A"))
    add(md("ns_list_public", "GET", f"{ns_path}?visibility=public"))
    add(md("ns_list_private", "GET", f"{ns_path}?visibility=private"))
    add(md("ns_list_resource_type", "GET", f"{ns_path}?resource_types={rt}"))
    add(md("ns_list_sorted", "GET", f"{ns_path}?sort_key=namespace&sort_dir=asc"))
    add(md("ns_list_bad_sort_dir", "GET", f"{ns_path}?sort_dir=up"))
    add(md("ns_list_bad_sort_key", "GET", f"{ns_path}?sort_key=nope"))
    add(md("ns_list_bad_limit", "GET", f"{ns_path}?limit=-1"))
    add(md("ns_list_bad_visibility", "GET", f"{ns_path}?visibility=nope"))
    add(md("ns_update", "PUT", ns, json={"namespace": "{tag}-ns", "display_name": "Renamed",
                                         "description": "d2", "visibility": "public",
                                         "protected": True}))
    add(md("ns_update_member", "PUT", ns, "A", json={"namespace": "{tag}-ns"}))
    add(md("ns_update_missing", "PUT", f"{ns_path}/{{tag}}-none",
           json={"namespace": "{tag}-none"}))
    add(md("ns_update_rename", "PUT", f"{ns_path}/{{tag}}-min",
           json={"namespace": "{tag}-min2", "display_name": "m"}))
    add(md("ns_update_rename_taken", "PUT", f"{ns_path}/{{tag}}-min2",
           json={"namespace": "{tag}-ns"}))
    add(md("ns_update_bad_body", "PUT", ns, json={"display_name": "x"}))
    # properties
    props = f"{ns}/properties"
    add(md("prop_create", "POST", props, json={"name": "p3", "title": "P3", "type": "array",
                                               "items": {"type": "string",
                                                         "enum": ["x", "y"]}}))
    add(md("prop_create_duplicate", "POST", props,
           json={"name": "p3", "title": "P3", "type": "string"}))
    add(md("prop_create_member", "POST", props, "A",
           json={"name": "p4", "title": "P4", "type": "string"}))
    add(md("prop_create_no_type", "POST", props, json={"name": "p5", "title": "P5"}))
    add(md("prop_create_bad_type", "POST", props,
           json={"name": "p5", "title": "P5", "type": "whatever"}))
    add(md("prop_create_no_title", "POST", props, json={"name": "p5", "type": "string"}))
    add(md("prop_list", "GET", props))
    add(md("prop_list_member", "GET", props, "A"))
    add(md("prop_show", "GET", f"{props}/p3"))
    add(md("prop_show_prefixed", "GET", f"{props}/hw_p1?resource_type={rt}"))
    add(md("prop_show_missing", "GET", f"{props}/nope"))
    add(md("prop_update", "PUT", f"{props}/p3",
           json={"name": "p3", "title": "P3b", "type": "string", "maxLength": 5}))
    add(md("prop_update_rename", "PUT", f"{props}/p3",
           json={"name": "p6", "title": "P6", "type": "string"}))
    add(md("prop_update_missing", "PUT", f"{props}/nope",
           json={"name": "nope", "title": "N", "type": "string"}))
    add(md("prop_delete", "DELETE", f"{props}/p6"))
    add(md("prop_delete_again", "DELETE", f"{props}/p6"))
    add(md("prop_delete_member", "DELETE", f"{props}/p1", "A"))
    # objects
    objs = f"{ns}/objects"
    add(md("obj_create", "POST", objs, json={"name": "o2", "description": "two",
                                             "required": ["r"],
                                             "properties": {"r": {"title": "R",
                                                                  "type": "number"}}}))
    add(md("obj_create_duplicate", "POST", objs, json={"name": "o2"}))
    add(md("obj_create_member", "POST", objs, "A", json={"name": "o3"}))
    add(md("obj_create_no_name", "POST", objs, json={"description": "x"}))
    add(md("obj_list", "GET", objs))
    add(md("obj_show", "GET", f"{objs}/o2"))
    add(md("obj_show_prefixed", "GET", f"{objs}/o1?resource_type={rt}"))
    add(md("obj_show_missing", "GET", f"{objs}/nope"))
    add(md("obj_update", "PUT", f"{objs}/o2", json={"name": "o2", "description": "changed"}))
    add(md("obj_update_missing", "PUT", f"{objs}/nope", json={"name": "nope"}))
    add(md("obj_delete", "DELETE", f"{objs}/o2"))
    add(md("obj_delete_again", "DELETE", f"{objs}/o2"))
    # tags
    tags = f"{ns}/tags"
    add(md("tag_create_one", "POST", f"{tags}/t3"))
    add(md("tag_create_one_duplicate", "POST", f"{tags}/t3"))
    add(md("tag_create_one_member", "POST", f"{tags}/t4", "A"))
    add(md("tag_create_many", "POST", tags, json={"tags": [{"name": "t5"}, {"name": "t6"}]}))
    add(md("tag_create_many_duplicates", "POST", tags,
           json={"tags": [{"name": "t7"}, {"name": "t7"}]}))
    add(md("tag_create_many_append", "POST", tags, json={"tags": [{"name": "t8"}]},
           headers={"X-Openstack-Append": "True"}))
    add(md("tag_create_many_bad", "POST", tags, json={"tags": "t9"}))
    add(md("tag_list", "GET", tags))
    add(md("tag_list_sorted", "GET", f"{tags}?sort_key=name&sort_dir=asc"))
    add(md("tag_show", "GET", f"{tags}/t5"))
    add(md("tag_show_missing", "GET", f"{tags}/nope"))
    add(md("tag_update", "PUT", f"{tags}/t5", json={"name": "t5b"}))
    add(md("tag_update_taken", "PUT", f"{tags}/t5b", json={"name": "t6"}))
    add(md("tag_delete", "DELETE", f"{tags}/t5b"))
    add(md("tag_delete_again", "DELETE", f"{tags}/t5b"))
    add(md("tag_delete_member", "DELETE", f"{tags}/t6", "A"))
    # resource types
    rts = f"{ns}/resource_types"
    add(md("rt_list", "GET", "/v2/metadefs/resource_types"))
    add(md("rt_assoc_list", "GET", rts))
    add(md("rt_assoc_create", "POST", rts,
           json={"name": "CONF::{tag}::Volume", "prefix": "vol_",
                 "properties_target": "volume"}))
    add(md("rt_assoc_create_duplicate", "POST", rts, json={"name": "CONF::{tag}::Volume"}))
    add(md("rt_assoc_create_member", "POST", rts, "A", json={"name": "CONF::{tag}::Other"}))
    add(md("rt_assoc_create_no_name", "POST", rts, json={"prefix": "x_"}))
    add(md("rt_assoc_list_after", "GET", rts))
    add(md("rt_list_after", "GET", "/v2/metadefs/resource_types"))
    add(md("rt_assoc_delete", "DELETE", f"{rts}/CONF::{{tag}}::Volume"))
    add(md("rt_assoc_delete_again", "DELETE", f"{rts}/CONF::{{tag}}::Volume"))
    add(md("rt_assoc_delete_missing_ns", "DELETE",
           f"{ns_path}/{{tag}}-none/resource_types/{rt}"))
    # bulk deletes inside a namespace, namespace deletion
    add(md("ns_delete_protected", "DELETE", ns))
    add(md("tags_delete_all_protected", "DELETE", tags))
    add(md("ns_unprotect", "PUT", ns, json={"namespace": "{tag}-ns", "protected": False,
                                            "visibility": "public"}))
    add(md("tags_delete_all", "DELETE", tags))
    add(md("tags_after_delete_all", "GET", tags))
    add(md("objs_delete_all", "DELETE", objs))
    add(md("props_delete_all", "DELETE", props))
    add(md("ns_show_emptied", "GET", ns))
    add(md("ns_delete_member", "DELETE", ns, "A"))
    add(md("ns_delete", "DELETE", ns))
    add(md("ns_delete_again", "DELETE", ns))
    add(md("ns_show_deleted", "GET", ns))
    for extra in ("priv", "min2"):
        add(md(f"ns_delete_{extra}", "DELETE", f"{ns_path}/{{tag}}-{extra}"))
    add(md("ns_list_after", "GET", ns_path))
    return s


# --------------------------------------------------------------------------------------------
# Per-target state and execution
# --------------------------------------------------------------------------------------------


@dataclass
class Result:
    """What one server answered."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    error: str | None = None  # transport failure


class Target:
    """One server under test, with the ids and names this run created on it."""

    def __init__(self, label: str, base_url: str, timeout: float = 60.0) -> None:
        self.label = label
        self.base = base_url.rstrip("/")
        parsed = urllib.parse.urlsplit(self.base)
        if parsed.scheme != "http" or not parsed.hostname:
            raise ValueError(f"{label}: only http://host:port URLs are supported: {base_url}")
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.timeout = timeout
        self.run = secrets.token_hex(3)
        self.seq = 0
        self.images: dict[str, str] = {}  # name -> id
        self.symbols: dict[str, str] = {}  # literal -> symbol, for normalisation

    # -- ids -----------------------------------------------------------------------------
    def project(self, key: str) -> str:
        pid = f"p{key.lower()}{self.run}"
        self.symbols[pid] = f"<proj:{key}>"
        return pid

    def user(self, key: str) -> str:
        uid = f"{key}{self.run}"
        self.symbols[uid] = f"<user:{key}>"
        return uid

    @property
    def tag(self) -> str:
        t = f"conf-{self.run}"
        self.symbols[t] = "<tag>"
        return t

    def image_id(self, name: str) -> str:
        if name not in self.images:
            self.seq += 1
            # Ids grow with creation order (first 8 hex digits), unique per run and target.
            rest = hashlib.sha256(f"{self.run}/{name}".encode()).hexdigest()
            # Names ending in "_rev" get ids that shrink with creation order instead.
            prefix = 0xF0000000 - self.seq if name.endswith("_rev") else self.seq
            iid = f"{prefix:08x}-{rest[:4]}-4{rest[5:8]}-8{rest[9:12]}-{rest[12:24]}"
            self.remember(name, iid)
        return self.images[name]

    def remember(self, name: str, iid: str) -> None:
        self.images[name] = iid
        self.symbols[iid] = f"<img:{name}>"
        self.symbols[iid.upper()] = f"<IMG:{name}>"

    # -- placeholders ----------------------------------------------------------------------
    _PLACEHOLDER = re.compile(r"\{(img|IMG|proj):([A-Za-z0-9_]+)\}|\{tag\}|\{newid\}")

    def resolve(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            if m.group(0) == "{tag}":
                return self.tag
            if m.group(0) == "{newid}":
                return "ffffffff-0000-4000-8000-" + secrets.token_hex(6)
            kind, name = m.group(1), m.group(2)
            if kind == "IMG":  # the image id in upper case
                return self.image_id(name).upper()
            return self.image_id(name) if kind == "img" else self.project(name)

        return self._PLACEHOLDER.sub(sub, text)

    def resolve_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.resolve(value)
        if isinstance(value, list):
            return [self.resolve_json(v) for v in value]
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve_json(v) for k, v in value.items()}
        return value

    def identity(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        if who == "ADM_NONE":  # admin-less stranger project D
            return {"X-Identity-Status": "Confirmed", "X-User-Id": self.user("ud"),
                    "X-Project-Id": self.project("D"), "X-Roles": "member,reader"}
        proj, user, roles = IDENTITIES[who]
        return {"X-Identity-Status": "Confirmed", "X-User-Id": self.user(user),
                "X-Project-Id": self.project(proj), "X-Roles": roles}

    # -- HTTP ----------------------------------------------------------------------------
    def send(self, step: Step) -> Result:
        result = self._poll(step, step.poll_until)
        if step.settle is not None:
            path, done = step.settle
            self._poll(Step("settle", step.name, "GET", path, step.who), done)
        return result

    def _poll(self, step: Step, done: Callable[[Any], bool] | None) -> Result:
        result = self._send_once(step)
        if done is None:
            return result
        deadline = time.monotonic() + POLL_SECONDS
        while time.monotonic() < deadline:
            try:
                if done(json.loads(result.body)):
                    break
            except (ValueError, AttributeError, TypeError):
                break  # an error page or no body: nothing is in progress
            time.sleep(0.2)
            result = self._send_once(step)
        return result

    def _send_once(self, step: Step) -> Result:
        path = self.resolve(step.path)
        headers = {**self.identity(step.who), **{k: self.resolve(v)
                                                 for k, v in step.headers.items()}}
        body: bytes | None = step.body
        if step.json is not None:
            body = json.dumps(self.resolve_json(step.json)).encode()
            headers.setdefault("Content-Type", "application/json")
        elif step.method in ("POST", "PUT") and body is None and step.content_type is None:
            body = b""
        if step.content_type:
            headers["Content-Type"] = step.content_type
        if body is not None and step.content_type is not None and b"{" in body:
            body = self.resolve(body.decode()).encode()
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            if step.chunked and body is not None:
                chunks = [body[i:i + 65536] for i in range(0, len(body), 65536)]
                conn.request(step.method, path, body=iter(chunks), headers=headers,
                             encode_chunked=True)
            else:
                conn.request(step.method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            result = Result(resp.status, hdrs, data)
        except (OSError, http.client.HTTPException) as exc:
            result = Result(0, {}, b"", error=f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()
        if step.save and 200 <= result.status < 300:
            try:
                self.remember(step.save, json.loads(result.body)["id"])
            except (ValueError, KeyError, TypeError):
                pass
        return result


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TS = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_REQ_ID = re.compile(r"req-[0-9a-f-]{36}")
_TAGS = re.compile(r"<[^>]+>")
# jsonschema errors quote the failing schema fragment, descriptions included; those are each
# server's own prose (see schemas), so they are not compared.
_SCHEMA_DESCRIPTION = re.compile(
    r"""'description': (?:(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\s*)+"""
)
_FILE_URL = re.compile(r"file://[^\s\"']*/([^/\s\"']+)")


class Normaliser:
    """Replaces a target's run-specific values with symbols, so two targets compare equal."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def text(self, s: str) -> str:
        t = self.target
        s = s.replace(t.base, "<base>")
        host = f"{t.host}:{t.port}"
        s = s.replace(host, "<host>")
        for literal in sorted(t.symbols, key=len, reverse=True):
            if literal in s:
                s = s.replace(literal, t.symbols[literal])
        s = _FILE_URL.sub(r"file://<dir>/\1", s)
        s = _REQ_ID.sub("<req-id>", s)
        s = _UUID.sub("<uuid>", s)
        return _TS.sub("<ts>", s)

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            out = {self.text(k): self.json(v) for k, v in value.items()}
            if isinstance(out.get("data_dir"), str):  # a store's local folder
                out["data_dir"] = "<dir>"
            if isinstance(out.get("tags"), list):  # Glance keeps tags in a set: no order
                out["tags"] = sorted(out["tags"], key=str)
            return out
        return value


def _known_images_only(value: Any, norm: Normaliser) -> Any:
    """Drop list entries that are images this run did not create."""
    if isinstance(value, dict) and isinstance(value.get("images"), list):
        known = set(norm.target.images.values())
        value = dict(value)
        value["images"] = [i for i in value["images"]
                           if not isinstance(i, dict) or i.get("id") in known]
    # metadef namespaces and resource types are named after the run's tag
    for key, field_name in (("namespaces", "namespace"), ("resource_types", "name")):
        if isinstance(value, dict) and isinstance(value.get(key), list):
            tag = norm.target.tag
            value = dict(value)
            value[key] = [i for i in value[key]
                          if not isinstance(i, dict) or tag in str(i.get(field_name, ""))]
    return value


def parse_error_body(body: bytes) -> dict[str, str] | None:
    """An error page (webob HTML/plain or JSON {message,code,title}) as {title, message}."""
    text = body.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and "message" in data and "title" in data:
        return {"title": str(data.get("title")), "message": _clean(str(data["message"])),
                "code": str(data.get("code"))}
    m = re.search(r"<title>(.*?)</title>", text, re.S)
    if m:
        after = text.split("</h1>", 1)[-1]
        return {"title": m.group(1).strip(), "message": _clean(after)}
    first, _, rest = text.partition("\n")
    if re.fullmatch(r"\d{3} [^<>{}]+", first.strip()):  # webob's text/plain rendering
        return {"title": first.strip(), "message": _clean(rest)}
    return None


def _clean(text: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

CATEGORIES = ("status", "header", "body", "error-text", "transport")


@dataclass
class Diff:
    category: str
    what: str
    glance: Any
    ours: Any


@dataclass
class Observation:
    """What gets compared of one answer, already normalised (so it can be recorded)."""

    status: int
    headers: dict[str, Any]
    body: Any
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "headers": self.headers, "body": self.body,
                "error": self.error}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        return cls(data["status"], data["headers"], data["body"], data.get("error"))


@dataclass
class Outcome:
    step: Step
    glance: Observation
    ours: Observation
    diffs: list[Diff]

    @property
    def g_view(self) -> Any:
        return self.glance.body

    @property
    def o_view(self) -> Any:
        return self.ours.body


def _type_name(v: Any) -> str:
    return "null" if v is None else type(v).__name__


def compare_json(a: Any, b: Any, path: str = "$") -> Iterator[Diff]:
    """Structural comparison: keys, types and values (after normalisation)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) - set(b)):
            yield Diff("body", f"{path}.{k}", a[k], "<missing>")
        for k in sorted(set(b) - set(a)):
            yield Diff("body", f"{path}.{k}", "<missing>", b[k])
        for k in sorted(set(a) & set(b)):
            yield from compare_json(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield Diff("body", f"{path} (length)", len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            yield from compare_json(x, y, f"{path}[{i}]")
    elif _type_name(a) != _type_name(b):
        yield Diff("body", f"{path} (type)", f"{_type_name(a)} {a!r}"[:200],
                   f"{_type_name(b)} {b!r}"[:200])
    elif a != b:
        yield Diff("body", path, a, b)


def _strip_descriptions(value: Any) -> Any:
    """Schema descriptions are Glance's own prose: compare that they exist, not their words."""
    if isinstance(value, dict):
        return {k: ("<text>" if k == "description" and isinstance(v, str)
                    else _strip_descriptions(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_descriptions(v) for v in value]
    return value


def body_view(step: Step, res: Result, norm: Normaliser) -> Any:
    """What of a body gets compared: normalised JSON, an error summary, or a digest."""
    if step.skip_body or not res.body:
        return None
    ctype = res.headers.get("content-type", "")
    if res.status >= 400:
        err = parse_error_body(res.body)
        if err is not None:
            message = _SCHEMA_DESCRIPTION.sub("'description': <text>", err["message"])
            return {"error": {**err, "message": norm.text(message)}}
    if "json" in ctype or res.body[:1] in (b"{", b"["):
        try:
            data = json.loads(res.body)
        except ValueError:
            pass
        else:
            if step.only_run_images:
                data = _known_images_only(data, norm)
            data = norm.json(data)
            if "/schemas/" in step.path:
                data = _strip_descriptions(data)
            return data
    if ctype.startswith("application/octet-stream") or res.status in (200, 206):
        return {"bytes": len(res.body), "md5": hashlib.md5(res.body).hexdigest()}
    return {"text": norm.text(_clean(res.body.decode("utf-8", "replace")))[:500]}


def _summary(view: Any) -> Any:
    """A short stand-in for a body: the error, or the JSON keys, or the view itself."""
    if isinstance(view, dict) and "error" in view:
        return view["error"]
    if isinstance(view, dict) and len(json.dumps(view, default=str)) > 200:
        return {"json keys": sorted(view)}
    return view


def _norm_ctype(value: str | None) -> str | None:
    if value is None:
        return None
    return ";".join(p.strip().lower() for p in value.split(";"))


def observe(step: Step, res: Result, norm: Normaliser) -> Observation:
    """Normalise the parts of ``res`` that are compared."""
    headers: dict[str, Any] = {}
    for h in COMPARED_HEADERS:
        value = res.headers.get(h)
        if h == "content-type":
            headers[h] = _norm_ctype(value)
        else:
            headers[h] = norm.text(value) if value is not None else None
    headers["allow"] = sorted(
        a.strip() for a in res.headers.get("allow", "").split(",") if a.strip()
    )
    headers["content-length"] = res.headers.get("content-length")
    sent_rid = {k.lower(): v for k, v in step.headers.items()}.get("x-openstack-request-id")
    rid = res.headers.get("x-openstack-request-id")
    # present or not; "echoed" when it is the request id the client sent
    headers["x-openstack-request-id"] = (
        "echoed" if sent_rid is not None and rid == sent_rid else rid is not None)
    return Observation(res.status, headers, body_view(step, res, norm), res.error)


def compare(step: Step, g: Observation, o: Observation) -> Outcome:
    """Every difference between Glance's observation ``g`` and ours ``o``."""
    diffs: list[Diff] = []
    if g.error or o.error:
        diffs.append(Diff("transport", "request", g.error or "ok", o.error or "ok"))
    if g.status != o.status:
        diffs.append(Diff("status", "status", g.status, o.status))
    for h in (*COMPARED_HEADERS, "allow"):
        if g.headers.get(h) != o.headers.get(h):
            diffs.append(Diff("header", h, g.headers.get(h), o.headers.get(h)))
    # Content-Length is deterministic for non-JSON bodies (downloads, empty answers).
    g_json = "json" in (g.headers.get("content-type") or "")
    if not g_json and g.status < 400 and step.method != "HEAD":
        gl, ol = g.headers.get("content-length"), o.headers.get("content-length")
        if gl != ol:
            diffs.append(Diff("header", "content-length", gl, ol))
    rid = "x-openstack-request-id"
    if g.headers.get(rid) != o.headers.get(rid):
        diffs.append(Diff("header", f"{rid} (present)", g.headers.get(rid), o.headers.get(rid)))
    gv_body, ov_body = g.body, o.body
    if g.status != o.status:
        # Different outcomes: one summary line instead of a key-by-key avalanche.
        if gv_body != ov_body:
            diffs.append(Diff("body", "body (different outcome)", _summary(gv_body),
                              _summary(ov_body)))
    elif isinstance(gv_body, dict) and "error" in gv_body and isinstance(ov_body, dict) \
            and "error" in ov_body:
        ge, oe = gv_body["error"], ov_body["error"]
        for part in ("title", "code"):
            if ge.get(part) != oe.get(part):
                diffs.append(Diff("body", f"error {part}", ge.get(part), oe.get(part)))
        if ge["message"] != oe["message"]:
            diffs.append(Diff("error-text", "error message", ge["message"], oe["message"]))
    else:
        diffs.extend(compare_json(gv_body, ov_body))
    return Outcome(step, g, o, diffs)


# --------------------------------------------------------------------------------------------
# Running and reporting
# --------------------------------------------------------------------------------------------


class LiveSource:
    """Observations of a running server."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.norm = Normaliser(target)

    @property
    def label(self) -> str:
        return self.target.base

    def observe(self, step: Step) -> Observation:
        return observe(step, self.target.send(step), self.norm)


class RecordedSource:
    """Observations recorded earlier from a real Glance (``--record``), replayed by step key.

    Lets the comparison run where no Glance is installed (CI): the recording holds only
    normalised data, so it is independent of the ids and ports of the recording run."""

    def __init__(self, path: str) -> None:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        self.path = path
        self.meta = data.get("meta", {})
        self.steps: dict[str, dict[str, Any]] = data["steps"]

    @property
    def label(self) -> str:
        return f"recording {self.path} ({self.meta.get('server', '?')})"

    def observe(self, step: Step) -> Observation:
        recorded = self.steps.get(step.key)
        if recorded is None:
            return Observation(0, {}, None, error="step not in the recording")
        return Observation.from_json(recorded)


def run(glance: LiveSource | RecordedSource, ours: LiveSource, steps: Iterable[Step],
        selected: Callable[[Step], bool]) -> list[Outcome]:
    """Send every step to both sides (all steps run, so state stays consistent)."""
    outcomes = []
    for step in steps:
        g = glance.observe(step)
        o = ours.observe(step)
        if step.compare and selected(step):
            outcomes.append(compare(step, g, o))
    return outcomes


def record(glance: LiveSource, steps: Iterable[Step], path: str) -> int:
    """Run the script against a real Glance and store its normalised answers in ``path``."""
    observed: dict[str, Any] = {}
    for step in steps:
        obs = glance.observe(step)
        if step.compare:
            observed[step.key] = obs.to_json()
    versions = observed.get("versions.versions", {}).get("body") or {}
    current = [v.get("id") for v in versions.get("versions", []) if v.get("status") == "CURRENT"]
    meta = {"server": f"Glance (API {current[0] if current else '?'})",
            "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "steps": len(observed)}
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, "steps": observed}, fh, indent=0, sort_keys=True,
                  ensure_ascii=False)
        fh.write("\n")
    print(f"recorded {len(observed)} answers of {glance.label} to {path}")
    return 0


def _short(v: Any, limit: int = 300) -> str:
    text = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def describe_request(step: Step) -> str:
    bits = [f"{step.method} {step.path}", f"as {step.who or 'nobody'}"]
    if step.json is not None:
        bits.append("json=" + _short(step.json, 160))
    elif step.body is not None:
        bits.append(f"body={_short(step.body[:160].decode('latin-1'), 160)}"
                    if len(step.body) < 400 else f"body=<{len(step.body)} bytes>")
    if step.content_type is not None:
        bits.append(f"Content-Type={step.content_type!r}")
    if step.headers:
        bits.append(f"headers={step.headers}")
    return " ".join(bits)


def text_report(outcomes: list[Outcome], counted: set[str]) -> str:
    lines = []
    for oc in outcomes:
        shown = list(oc.diffs)
        if not shown:
            continue
        lines.append(f"DIFF {oc.step.key}: {describe_request(oc.step)}")
        for d in shown:
            mark = "" if d.category in counted else " (ignored)"
            lines.append(f"    [{d.category}]{mark} {d.what}: glance={_short(d.glance)} "
                         f"ours={_short(d.ours)}")
    return "\n".join(lines)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("`", "'")[:160]


def distinct_differences(outcomes: list[Outcome]) -> list[tuple[tuple[str, ...], list[str]]]:
    """Differences grouped by (category, what, glance, ours) with list indices erased, most
    frequent first: one line per underlying behaviour rather than per request."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for oc in outcomes:
        for d in oc.diffs:
            what = re.sub(r"\[\d+\]", "[*]", d.what)
            sig = (d.category, what, _short(d.glance, 120), _short(d.ours, 120))
            steps = groups.setdefault(sig, [])
            if oc.step.key not in steps:
                steps.append(oc.step.key)
    return sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))


def markdown_report(outcomes: list[Outcome], glance: LiveSource | RecordedSource,
                    ours: LiveSource) -> str:
    differing = [oc for oc in outcomes if oc.diffs]
    out = [
        "# Conformance differences: Glance 33 vs glance-domain",
        "",
        f"Generated {time.strftime('%Y-%m-%d %H:%M:%S %Z')} by `tools/conformance.py` "
        f"(glance={glance.label}, ours={ours.label}).",
        f"{len(outcomes)} requests compared, {len(differing)} differ.",
        "",
        "## Summary by area",
        "",
        "| area | requests | differing |",
        "|---|---|---|",
    ]
    areas: dict[str, list[Outcome]] = {}
    for oc in outcomes:
        areas.setdefault(oc.step.area, []).append(oc)
    for area, ocs in areas.items():
        out.append(f"| {area} | {len(ocs)} | {sum(1 for o in ocs if o.diffs)} |")
    out += ["", "## Distinct differences (same difference in several requests counted once)", "",
            "| # | category | what | glance | ours | requests | first request |",
            "|---|---|---|---|---|---|---|"]
    for i, (sig, steps) in enumerate(distinct_differences(outcomes), 1):
        cat, what, gv, ov = sig
        out.append(f"| {i} | {cat} | {what} | `{_cell(gv)}` | `{_cell(ov)}` | {len(steps)} "
                   f"| {steps[0]} |")
    for area, ocs in areas.items():
        bad = [o for o in ocs if o.diffs]
        if not bad:
            continue
        out += ["", f"## {area}", ""]
        for oc in bad:
            out.append(f"### {oc.step.key}")
            out.append("")
            out.append(f"- request: `{describe_request(oc.step)}`")
            out.append(f"- glance: **{oc.glance.status}** `{_short(oc.g_view, 600)}`")
            out.append(f"- ours: **{oc.ours.status}** `{_short(oc.o_view, 600)}`")
            for d in oc.diffs:
                out.append(f"  - [{d.category}] {d.what}: glance=`{_short(d.glance)}` "
                           f"ours=`{_short(d.ours)}`")
            out.append("")
    return "\n".join(out) + "\n"


OURS_CONFIG = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 1
data_dir = {data}
enabled_backends = fs:file
image_size_cap = 2097152

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {data}/images
"""


@contextlib.contextmanager
def serve_ours() -> Iterator[str]:
    """Run a throw-away ``glance-domain serve`` on a free loopback port; yield its URL."""
    with tempfile.TemporaryDirectory(prefix="conformance-") as tmp:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        conf = os.path.join(tmp, "glance-api.conf")
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write(OURS_CONFIG.format(port=port, data=os.path.join(tmp, "data")))
        exe = os.path.join(os.path.dirname(sys.executable), "glance-domain")
        log = open(os.path.join(tmp, "server.log"), "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([exe, "serve", "--config-file", conf], stdout=log,
                                stderr=subprocess.STDOUT, cwd=tmp, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            probe = Target("ours", url)
            deadline = time.monotonic() + 60
            while probe.send(Step("probe", "versions", "GET", "/versions", None)).error:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    with open(log.name, encoding="utf-8", errors="replace") as fh:
                        sys.exit(f"glance-domain serve did not start:\n{fh.read()[-3000:]}")
                time.sleep(0.2)
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    reference = parser.add_mutually_exclusive_group(required=True)
    reference.add_argument("--glance", help="base URL of the real Glance")
    reference.add_argument("--glance-recording", metavar="FILE",
                           help="compare with Glance answers recorded by --record instead")
    parser.add_argument("--record", metavar="FILE",
                        help="with --glance only: record Glance's normalised answers to FILE")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--ours", help="base URL of a running glance-domain")
    target.add_argument(
        "--ours-serve",
        action="store_true",
        help="start a fresh glance-domain (glance-domain serve next to this Python, SQLite and "
        "file store 'fs' in a temporary directory, image_size_cap=2097152) and stop it at the end",
    )
    parser.add_argument("--only", action="append", default=[],
                        help="compare only steps whose area.name starts with this (repeatable);"
                             " all steps are still sent")
    parser.add_argument("--ignore", action="append", default=[], choices=CATEGORIES,
                        help="difference category not counted for the exit status")
    parser.add_argument("--markdown", help="also write a markdown report to this file")
    parser.add_argument("--json", dest="json_out", help="also write machine-readable diffs")
    parser.add_argument("--list", action="store_true", help="list the steps and exit")
    parser.add_argument("--show", action="store_true",
                        help="print every compared step with both statuses, not only diffs")
    args = parser.parse_args(argv)

    steps = scenario()
    if args.list:
        for st in steps:
            print(f"{st.key}: {describe_request(st)}")
        return 0
    if len({st.key for st in steps}) != len(steps):
        raise SystemExit("duplicate step keys in the script")
    if args.record:
        if not args.glance:
            parser.error("--record needs --glance URL")
        try:
            source = LiveSource(Target("glance", args.glance))
        except ValueError as exc:
            parser.error(str(exc))
        return record(source, steps, args.record)
    if not (args.ours or args.ours_serve):
        parser.error("one of --ours URL or --ours-serve is required")
    with contextlib.ExitStack() as stack:
        ours_url = args.ours or stack.enter_context(serve_ours())
        return _check(args, steps, ours_url)


def _check(args: argparse.Namespace, steps: list[Step], ours_url: str) -> int:
    try:
        targets = [Target("ours", ours_url)]
        if args.glance:
            targets.append(Target("glance", args.glance))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    for t in targets:
        probe = t.send(Step("probe", "versions", "GET", "/versions", None))
        if probe.error:
            print(f"{t.label} at {t.base} is not reachable: {probe.error}", file=sys.stderr)
            return 2
    ours = LiveSource(targets[0])
    glance: LiveSource | RecordedSource = (
        LiveSource(targets[1]) if args.glance else RecordedSource(args.glance_recording)
    )

    def selected(st: Step) -> bool:
        return not args.only or any(st.key.startswith(p) for p in args.only)

    outcomes = run(glance, ours, steps, selected)
    counted = set(CATEGORIES) - set(args.ignore)
    if args.show:
        for oc in outcomes:
            print(f"{oc.step.key}: glance={oc.glance.status} ours={oc.ours.status} "
                  f"{_short(oc.g_view, 160)}")
    report = text_report(outcomes, counted)
    if report:
        print(report)
    n_diff = sum(1 for oc in outcomes if any(d.category in counted for d in oc.diffs))
    by_cat: dict[str, int] = {}
    for oc in outcomes:
        for d in oc.diffs:
            by_cat[d.category] = by_cat.get(d.category, 0) + 1
    print(f"\n{len(outcomes)} requests compared; {n_diff} differ"
          + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(by_cat.items()))})" if by_cat else ""))
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as fh:
            fh.write(markdown_report(outcomes, glance, ours))
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as fh:
            json.dump([{"step": oc.step.key, "request": describe_request(oc.step),
                        "glance_status": oc.glance.status, "ours_status": oc.ours.status,
                        "diffs": [d.__dict__ for d in oc.diffs]}
                       for oc in outcomes if oc.diffs], fh, indent=1, default=str)
    return 1 if n_diff else 0


if __name__ == "__main__":
    sys.exit(main())
