"""``glance-domain image verify`` on the s3 store (moto_server on 127.0.0.1): an object
overwritten or removed behind the service's back is reported; and the verifier's read cap and
notification, as a library."""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any

import attrs
import boto3
import pytest

from glance_domain.memory import MemoryStoreRegistry
from glance_domain.model.image import Image
from glance_domain.model.location import Location
from glance_domain.verification import Throttle, Verifier
from tests.cli.cli_harness import Cli

ACCESS, SECRET = "AKIDVERIFY0001", "verify-secret-0001"


def _config(tmp_path: Path, endpoint: str, bucket: str) -> Path:
    path = tmp_path / "glance-domain.conf"
    path.write_text(
        f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n"
        "[glance_store]\nstores = s3\ndefault_store = s3\n"
        f"s3_store_host = {endpoint}\ns3_store_access_key = {ACCESS}\n"
        f"s3_store_secret_key = {SECRET}\ns3_store_bucket = {bucket}\n"
        "s3_store_create_bucket_on_put = true\n")
    return path


def test_overwritten_and_removed_objects_are_reported(
        tmp_path: Path, capsys: Any, moto_endpoint: str) -> None:
    bucket = f"verify-{uuid.uuid4().hex[:10]}"
    cli = Cli(_config(tmp_path, moto_endpoint, bucket), capsys)
    source = tmp_path / "disk.raw"
    source.write_bytes(os.urandom(100_000))
    ids = [cli.create("--name", f"i{n}", "--disk-format", "raw", "--container-format", "bare",
                      "--file", str(source))["id"] for n in range(3)]
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, aws_access_key_id=ACCESS,
                      aws_secret_access_key=SECRET, region_name="us-east-1")
    keys = {obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == set(ids)
    s3.put_object(Bucket=bucket, Key=ids[0], Body=b"tampered")
    s3.delete_object(Bucket=bucket, Key=ids[1])
    result = cli("image", "verify", "--all", "-f", "json")
    assert result.code == 1
    rows = {row["id"]: row for row in json.loads(result.out)}
    assert rows[ids[0]]["outcome"] == "mismatch"
    assert "size 8, expected 100000" in rows[ids[0]]["detail"]
    assert rows[ids[1]]["outcome"] == "missing"
    assert rows[ids[2]]["outcome"] == "ok"
    assert SECRET not in result.out + result.err


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any], str]] = []

    def notify(self, context: Any, event_type: str, payload: Any, *, level: str = "INFO") -> None:
        self.sent.append((event_type, dict(payload), level))


def _image(stores: MemoryStoreRegistry, data: bytes) -> Image:
    stored = stores.write(uuid.uuid4().hex, [data])
    now = dt.datetime(2024, 1, 1)
    return Image(id=uuid.uuid4().hex, name="n", owner="p1", status="active", created_at=now,
                 updated_at=now, size=stored.size, checksum=stored.checksum,
                 os_hash_algo=stored.hash_algo, os_hash_value=stored.hash_value,
                 locations=(Location(url=stored.url, metadata={"store": "default"}),))


def test_failures_are_notified_once_per_copy() -> None:
    stores, recorder = MemoryStoreRegistry(), Recorder()
    good = _image(stores, b"good data")
    bad = attrs.evolve(_image(stores, b"data"), checksum="0" * 32)
    verifier = Verifier(stores, recorder)
    assert [f.outcome for f in verifier.verify(good)] == ["ok"]
    assert recorder.sent == []
    (finding,) = verifier.verify(bad)
    assert finding.outcome == "mismatch" and finding.failed
    ((event, payload, level),) = recorder.sent
    assert (event, level) == ("image.verify.failed", "ERROR")
    assert payload["id"] == bad.id and payload["outcome"] == "mismatch"
    assert payload["store"] == "default" and payload["checksum"] == "0" * 32


def test_the_throttle_caps_the_read_rate() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    throttle = Throttle(1000, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        throttle(500)  # 5,000 bytes at 1,000 bytes/s: 5 s at least
    assert now[0] == pytest.approx(5.0)
    unlimited = Throttle(None, clock=lambda: 0.0, sleep=sleep)
    slept.clear()
    unlimited(10**9)
    assert slept == []
