"""The FormatInspector port in the domain: virtual_size on upload/import, refusal of data that
does not match disk_format (image back to queued, nothing kept)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from glance_domain import (
    DomainSettings,
    Gateway,
    InvalidImageData,
    MemoryImageRepository,
    RawFormatInspector,
    RequestContext,
)
from glance_domain.importing import (
    ImportRequest,
    InlineExecutor,
    MemoryStagingArea,
    MemoryTaskRepository,
)
from glance_domain.notifications import NullNotifier

from .helpers import FailingStores, RecordingPolicy, SteppingClock, World, formats


class MagicInspector:
    """A fake inspector: data starting with b'QFI' is qcow2 of virtual size 4096."""

    class _Data:
        def __init__(self, chunks: Iterable[bytes], disk_format: str | None) -> None:
            self.chunks, self.disk_format, self.head = chunks, disk_format, b""

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.chunks:
                if len(self.head) < 3:
                    self.head += chunk[:3]
                yield chunk

        def verdict(self) -> int | None:
            detected = "qcow2" if self.head.startswith(b"QFI") else "raw"
            if detected != self.disk_format:
                raise InvalidImageData(f"Image disk_format {self.disk_format} does not match "
                                       f"stream data {detected}")
            return 4096

    def inspect(self, chunks: Iterable[bytes], *, disk_format: str | None,
                container_format: str | None) -> _Data:
        return self._Data(chunks, disk_format)


def gateway(**kw: object) -> tuple[Gateway, FailingStores, MemoryStagingArea]:
    clock = SteppingClock()
    stores = FailingStores(("default",), default="default")
    staging = MemoryStagingArea()
    gw = Gateway(
        repository=MemoryImageRepository(clock), stores=stores, policy=RecordingPolicy(),
        notifier=NullNotifier(), settings=DomainSettings(), clock=clock,
        tasks=MemoryTaskRepository(clock), staging=staging, executor=InlineExecutor(),
        **kw,  # type: ignore[arg-type]
    )
    return gw, stores, staging


CTX = RequestContext(project_id="p1", user_id="u1", roles=("member",))


def test_default_inspector_sets_virtual_size_of_raw_images(world: World) -> None:
    svc = world.service("p1")
    image = svc.create_image(name="i", **formats())
    assert svc.upload_data(image.id, [b"abc", b"de"]).virtual_size == 5
    empty = svc.create_image(name="e", **formats())
    assert svc.upload_data(empty.id, []).virtual_size is None  # Glance: 0 is not recorded
    other = svc.create_image(name="q", disk_format="qcow2", container_format="bare")
    assert svc.upload_data(other.id, [b"junk"]).virtual_size is None  # cannot tell: accepted
    ovf = svc.create_image(name="o", disk_format="raw", container_format="ovf")
    assert svc.upload_data(ovf.id, [b"junk"]).virtual_size is None  # only bare is inspected


def test_gateway_defaults_to_the_raw_inspector() -> None:
    gw, _, _ = gateway()
    assert isinstance(gw.format_inspector, RawFormatInspector)


def test_upload_records_the_inspected_virtual_size() -> None:
    gw, _, _ = gateway(format_inspector=MagicInspector())
    svc = gw.service(CTX)
    image = svc.create_image(name="q", disk_format="qcow2", container_format="bare")
    done = svc.upload_data(image.id, [b"QFI", b"rest"])
    assert (done.status, done.size, done.virtual_size) == ("active", 7, 4096)


def test_mismatching_upload_is_refused_and_nothing_kept() -> None:
    gw, stores, _ = gateway(format_inspector=MagicInspector())
    svc = gw.service(CTX)
    image = svc.create_image(name="q", disk_format="qcow2", container_format="bare")
    with pytest.raises(InvalidImageData, match="does not match stream data raw"):
        svc.upload_data(image.id, [b"raw bytes"])
    after = svc.get_image(image.id)
    assert (after.status, after.size, after.virtual_size, after.locations) == (
        "queued", None, None, ())
    assert stores.object_count() == 0
    assert svc.upload_data(image.id, [b"QFI!"]).status == "active"  # can be retried


def _import(gw: Gateway, data: bytes, disk_format: str) -> str:
    svc = gw.service(CTX)
    image = svc.create_image(name="i", disk_format=disk_format, container_format="bare")
    svc.stage_data(image.id, [data])
    assert svc.get_image(image.id).virtual_size is None  # staging does not inspect
    svc.import_image(image.id, ImportRequest(
        method="glance-direct", body={"method": {"name": "glance-direct"}}))
    return image.id


def test_import_records_the_inspected_virtual_size() -> None:
    gw, _, _ = gateway(format_inspector=MagicInspector())
    image_id = _import(gw, b"QFI...", "qcow2")
    done = gw.service(CTX).get_image(image_id)
    assert (done.status, done.virtual_size) == ("active", 4096)


def test_mismatching_import_fails_its_task_and_keeps_no_data() -> None:
    gw, stores, _ = gateway(format_inspector=MagicInspector())
    image_id = _import(gw, b"raw", "qcow2")
    svc = gw.service(CTX)
    after = svc.get_image(image_id)
    assert after.status == "queued" and after.locations == () and after.virtual_size is None
    assert after.extra_properties["os_glance_failed_import"] == "default"
    assert stores.object_count() == 0
    (task,) = svc.image_tasks(image_id)
    assert task.status == "failure" and "does not match stream data raw" in task.message
