"""Image signature verification over HTTP on the real stack (SQLite, file store, cursive,
a castellan key manager holding real X.509 certificates made by the tests): uploads and
glance-direct imports of signed images, with Glance's answers and end states."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import pytest

from glance_domain_adapters import bootstrap
from tests.cli.cli_harness import write_config
from tests.signature_support import MemoryKeyManager, certificate, private_key, sign
from tests.wsgi.conftest import ALICE, Client

DATA = os.urandom(200_000)


@pytest.fixture
def client(tmp_path: Path) -> Client:
    config = write_config(tmp_path)
    with config.open("a") as f:
        f.write("[key_manager]\nbackend = tests.signature_support.MemoryKeyManager\n")
    conf = bootstrap.load_config([], [str(config)])
    client = Client(bootstrap.build_app(conf), ALICE)
    client.images_dir = tmp_path / "images"  # type: ignore[attr-defined]
    return client


def _signed(client: Client, key_type: str = "RSA-PSS", hash_method: str = "SHA-256",
            data: bytes = DATA, **cert_dates: Any) -> dict[str, Any]:
    key = private_key(key_type)
    cert_id = MemoryKeyManager.add(certificate(key, **cert_dates))
    return client.create(
        name="signed", disk_format="raw", container_format="bare",
        img_signature=sign(key, key_type, hash_method, data),
        img_signature_hash_method=hash_method, img_signature_key_type=key_type,
        img_signature_certificate_uuid=cert_id)


def _files(client: Client) -> list[Path]:
    directory: Path = client.images_dir  # type: ignore[attr-defined]
    return [p for p in directory.iterdir()] if directory.exists() else []


@pytest.mark.parametrize(("key_type", "hash_method"), [
    ("RSA-PSS", "SHA-256"), ("RSA-PSS", "SHA-512"), ("ECC_SECP384R1", "SHA-384"),
    ("ECC_SECP521R1", "SHA-512"), ("DSA", "SHA-224"),
])
def test_data_that_verifies_is_stored(client: Client, key_type: str, hash_method: str) -> None:
    image = _signed(client, key_type, hash_method)
    assert client.upload(image["id"], DATA).status_int == 204
    shown = client.get(f"/v2/images/{image['id']}").json
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert client.get(f"/v2/images/{image['id']}/file").body == DATA


def test_data_that_does_not_verify_is_refused_and_not_kept(client: Client) -> None:
    image = _signed(client)
    tampered = DATA[:-1] + bytes([DATA[-1] ^ 1])
    refused = client.upload(image["id"], tampered)
    assert refused.status_int == 400
    assert (f"Signature verification failed for image {image['id']}: Signature verification "
            "failed") in refused.text
    assert client.get(f"/v2/images/{image['id']}").json["status"] == "queued"  # as Glance
    assert _files(client) == []
    assert client.upload(image["id"], DATA).status_int == 204  # and may be retried


@pytest.mark.parametrize(("change", "reason"), [
    ({"img_signature_certificate_uuid": "no-such-cert"},
     "Certificate not found with ID: no-such-cert"),
    ({"img_signature_hash_method": "MD5"}, "Invalid signature hash method: MD5"),
    ({"img_signature_key_type": "RSA-OAEP"}, "Invalid signature key type: RSA-OAEP"),
    ({"img_signature": "not base64!"}, "The signature data was not properly encoded"),
])
def test_signatures_that_cannot_be_checked_are_refused(
        client: Client, change: dict[str, str], reason: str) -> None:
    image = _signed(client)
    patch = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in change.items()]
    assert client.patch(f"/v2/images/{image['id']}", patch).status_int == 200
    refused = client.upload(image["id"], DATA)
    assert refused.status_int == 400
    assert reason in refused.text
    assert client.get(f"/v2/images/{image['id']}").json["status"] == "queued"
    assert _files(client) == []


@pytest.mark.parametrize("dates", ["expired", "not-yet-valid"])
def test_certificates_outside_their_dates_are_refused(client: Client, dates: str) -> None:
    now = dt.datetime.now(dt.UTC)
    window = ({"not_before": now - dt.timedelta(days=10), "not_after": now - dt.timedelta(days=1)}
              if dates == "expired" else
              {"not_before": now + dt.timedelta(days=1), "not_after": now + dt.timedelta(days=9)})
    image = _signed(client, **window)
    refused = client.upload(image["id"], DATA)
    assert refused.status_int == 400 and "is not valid now" in refused.text
    assert _files(client) == []


def test_unsigned_images_are_not_checked(client: Client) -> None:
    image = client.create(name="plain", disk_format="raw", container_format="bare",
                          img_signature="only one of the four properties")
    assert client.upload(image["id"], DATA).status_int == 204


def _import(client: Client, image_id: str, data: bytes) -> dict[str, Any]:
    assert client.put(f"/v2/images/{image_id}/stage", body=data,
                      content_type="application/octet-stream").status_int == 204
    started = client.post(f"/v2/images/{image_id}/import",
                          {"method": {"name": "glance-direct"}})
    assert started.status_int == 202, started.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        image = client.get(f"/v2/images/{image_id}").json
        if image["status"] in ("active", "queued") and not image.get(
                "os_glance_importing_to_stores"):
            return dict(image)
        time.sleep(0.05)
    raise AssertionError(f"import did not finish: {image}")


def test_glance_direct_imports_are_verified(client: Client) -> None:
    good = _signed(client)
    assert _import(client, good["id"], DATA)["status"] == "active"
    bad = _signed(client)
    image = _import(client, bad["id"], DATA[1:])
    assert image["status"] == "queued"
    assert [p for p in _files(client) if bad["id"] in p.name] == []
