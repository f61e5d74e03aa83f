"""Upload-time format inspection over HTTP, with the oslo.utils-based inspector servers use
(behaviour checked against a live Glance 33: virtual_size, 415 on mismatch, image kept queued)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest

from glance_domain.errors import InvalidImageData
from glance_domain.gateway import Gateway
from glance_domain.memory import MemoryImageRepository, MemoryStoreRegistry
from glance_domain.notifications import NullNotifier
from glance_domain.policy import DefaultPolicy
from glance_domain.settings import DomainSettings
from glance_domain_adapters.formats import OsloFormatInspector
from glance_domain_adapters.wsgi.app import make_app

from .conftest import ALICE, Client

GiB = 1 << 30


def qcow2(virtual_size: int = GiB, backing_offset: int = 0, length: int = 4096) -> bytes:
    """A minimal qcow2 (v2) header followed by zeros, its refcount table at 1 KiB and its
    one-entry L1 table at 2 KiB (both inside the data: a header alone is refused)."""
    header = struct.pack(">4sIQIIQIIQQ", b"QFI\xfb", 2, backing_offset, 0, 16, virtual_size,
                         0, 1, 2048, 1024)
    return header + b"\0" * (length - len(header))


@pytest.fixture
def fmt_client() -> Client:
    settings = DomainSettings()
    gateway = Gateway(
        repository=MemoryImageRepository(), stores=MemoryStoreRegistry(("fast",)),
        policy=DefaultPolicy(), notifier=NullNotifier(), settings=settings,
        format_inspector=OsloFormatInspector(),
    )
    app: Callable[..., Any] = make_app(gateway, settings)
    return Client(app, ALICE)


def _upload(client: Client, disk_format: str, data: bytes, container: str = "bare") -> Any:
    image = client.create(name="f", disk_format=disk_format, container_format=container)
    resp = client.upload(image["id"], data, headers={"Accept": "application/json"})
    return resp, client.get(f"/v2/images/{image['id']}").json


@pytest.mark.parametrize(("disk_format", "data", "virtual_size"), [
    ("raw", b"x" * 1000, 1000),
    ("raw", b"", None),
    ("qcow2", qcow2(), GiB),
    ("raw", qcow2(), 4096),  # a qcow2 stored as raw: its byte count
    ("ami", b"x" * 1000, None),  # not inspectable: accepted without virtual size
])
def test_upload_records_virtual_size(
    fmt_client: Client, disk_format: str, data: bytes, virtual_size: int | None
) -> None:
    resp, image = _upload(fmt_client, disk_format, data)
    assert resp.status_int == 204, resp.text
    assert (image["status"], image["size"], image["virtual_size"]) == (
        "active", len(data), virtual_size)


@pytest.mark.parametrize(("disk_format", "data", "detected"), [
    ("qcow2", b"", "raw"),
    ("qcow2", b"x" * 1000, "raw"),
    ("iso", b"x" * 1000, "raw"),
    ("vmdk", b"x" * 1000, "raw"),
    ("vhd", qcow2(), "qcow2"),
])
def test_mismatching_data_is_415_and_image_stays_queued(
    fmt_client: Client, disk_format: str, data: bytes, detected: str
) -> None:
    resp, image = _upload(fmt_client, disk_format, data)
    assert resp.status_int == 415
    assert resp.json["message"].endswith(
        f"Image disk_format {disk_format} does not match stream data {detected}")
    assert (image["status"], image["size"], image["virtual_size"]) == ("queued", None, None)


def test_non_bare_containers_are_not_inspected(fmt_client: Client) -> None:
    resp, image = _upload(fmt_client, "qcow2", b"junk", container="ovf")
    assert resp.status_int == 204 and image["virtual_size"] is None


def test_qcow2_with_a_backing_file_fails_safety_checks(fmt_client: Client) -> None:
    data = qcow2(backing_offset=512)
    resp, image = _upload(fmt_client, "qcow2", data)
    assert resp.status_int == 415 and "Image failed safety checks" in resp.text
    assert image["status"] == "queued"


def _verdict(inspector: OsloFormatInspector, disk_format: str, data: bytes,
             chunk: int = 7) -> int | None:
    inspected = inspector.inspect((data[i:i + chunk] for i in range(0, len(data), chunk)),
                                  disk_format=disk_format, container_format="bare")
    assert b"".join(inspected) == data  # the bytes pass through untouched
    return inspected.verdict()


def test_headers_split_across_small_chunks_are_recognised() -> None:
    assert _verdict(OsloFormatInspector(), "qcow2", qcow2(virtual_size=12345 * 512)) == (
        12345 * 512)


def test_lenient_inspector_only_logs_a_mismatch() -> None:
    assert _verdict(OsloFormatInspector(require_match=False), "qcow2", b"raw data") is None
    with pytest.raises(InvalidImageData):
        _verdict(OsloFormatInspector(), "qcow2", b"raw data")


def test_inspectors_stop_being_fed_once_they_have_decided() -> None:
    inspected = OsloFormatInspector().inspect(
        iter([b"\0" * 65536] * 8), disk_format="raw", container_format="bare")
    for _ in inspected:
        pass
    assert inspected._active == []  # after 512 KiB of zeros every format has decided
    assert inspected.verdict() == 8 * 65536
