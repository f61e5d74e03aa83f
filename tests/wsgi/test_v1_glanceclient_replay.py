"""python-glanceclient v1's own requests, replayed against ``/v1``.

The last python-glanceclient with v1 (2.17.1, ``python-glanceclient<3``) cannot live in the
project's venv (it would downgrade glanceclient, jsonschema, warlock and prettytable), so
``tools/record_glanceclient_v1.py`` ran it from a scratch venv against this app on loopback --
its driver checked every answer client-side (md5 of the download included) -- and recorded
each request (method, path, headers, body) with the status it got. Here they are sent again,
in order, to a fresh app: every status must match, and the data must come back intact.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.wsgi.conftest import Client
from tests.wsgi.v1_support import v1_client

RECORDING = Path(__file__).parent / "recordings" / "glanceclient_v1.json"
DATA = bytes(range(256)) * 64  # what the driver uploaded as its first image
FIRST = "11111111-1111-4111-8111-111111111111"


def _entries() -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(RECORDING.read_text())
    return entries


def test_recording_covers_every_v1_route() -> None:
    seen = {(e["method"], e["path"].split("?")[0].replace(FIRST, "{id}")) for e in _entries()}
    for route in [("POST", "/v1/images"), ("HEAD", "/v1/images/{id}"),
                  ("GET", "/v1/images/{id}"), ("GET", "/v1/images/detail"),
                  ("PUT", "/v1/images/{id}"), ("DELETE", "/v1/images/{id}"),
                  ("PUT", "/v1/images/{id}/members/bob-project"),
                  ("GET", "/v1/images/{id}/members"),
                  ("DELETE", "/v1/images/{id}/members/bob-project"),
                  ("GET", "/v1/shared-images/bob-project")]:
        assert route in seen, route


@pytest.fixture
def client() -> Client:
    return v1_client()


def test_replay_glanceclient_v1_requests(client: Client) -> None:
    for number, entry in enumerate(_entries()):
        body = base64.b64decode(entry["body"])
        headers = dict(entry["headers"])
        content_type = headers.pop("content-type", None)
        resp = client.request(entry["method"], entry["path"], headers=headers,
                              body=body or None, content_type=content_type, as_={})
        assert resp.status_int == entry["status"], (number, entry["method"], entry["path"],
                                                    resp.text)
        if entry["method"] == "GET" and entry["path"] == f"/v1/images/{FIRST}":
            assert resp.body == DATA
            assert resp.headers["x-image-meta-checksum"] == hashlib.md5(DATA).hexdigest()
        if entry["method"] == "POST" and body:
            assert resp.json["image"]["checksum"] == hashlib.md5(DATA).hexdigest()
            assert resp.json["image"]["properties"] == {"distro": "debian"}
