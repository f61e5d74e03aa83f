"""Import plugins in the domain: where they run (glance-direct and web-download, not
copy-image), in which order, what an ``ImportJob`` lets them do, and how a failing plugin fails
the import — over the in-memory ports with fake plugins, tasks run inline."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

import pytest

from glance_domain import DomainSettings, Gateway, MemoryImageRepository, RequestContext
from glance_domain.importing import (
    ImportJob,
    ImportRequest,
    InlineExecutor,
    MemoryStagingArea,
    MemoryTaskRepository,
    NamedPlugin,
)
from glance_domain.notifications import RecordingNotifier
from glance_domain.ports import DataStream

from .helpers import FailingStores, RecordingPolicy, SteppingClock, formats

DATA = b"0123456789" * 10_000


class Fetcher:
    def check(self, uri: str) -> None:
        pass

    def open(self, uri: str) -> DataStream:
        return DataStream(chunks=iter([DATA]), length=len(DATA))


class Recorder:
    """A plugin recording what it saw, then doing ``action`` (if any)."""

    def __init__(self, log: list[tuple[str, str, str]], name: str,
                 action: Callable[[ImportJob], None] | None = None) -> None:
        self.log, self.name, self.action = log, name, action

    def run(self, job: ImportJob) -> None:
        self.log.append((self.name, job.method, job.image.status))
        if self.action is not None:
            self.action(job)


class World:
    def __init__(self, plugins: list[object], protections: object = None,
                 **settings: object) -> None:
        self.clock = SteppingClock()
        self.repo = MemoryImageRepository(self.clock)
        self.stores = FailingStores(("default", "fast"), default="default")
        self.staging = MemoryStagingArea()
        self.tasks = MemoryTaskRepository(self.clock)
        self.gateway = Gateway(
            repository=self.repo, stores=self.stores, policy=RecordingPolicy(),
            notifier=RecordingNotifier(), settings=DomainSettings(**settings),  # type: ignore[arg-type]
            clock=self.clock, tasks=self.tasks, staging=self.staging,
            executor=InlineExecutor(), fetcher=Fetcher(),
            import_plugins=plugins,  # type: ignore[arg-type]
            property_protections=protections,  # type: ignore[arg-type]
        )

    def svc(self, project: str = "p1", roles: tuple[str, ...] = ("member",)):  # type: ignore[no-untyped-def]
        return self.gateway.service(RequestContext(
            project_id=project, user_id="u-" + project, roles=roles,
            is_admin="admin" in roles))

    def glance_direct(self, data: bytes = DATA, roles: tuple[str, ...] = ("member",),
                      **attrs: object):  # type: ignore[no-untyped-def]
        svc = self.svc(roles=roles)
        image = svc.create_image(name="i", **{**formats(), **attrs})
        svc.stage_data(image.id, iter([data]))
        task = svc.import_image(image.id, ImportRequest(method="glance-direct"))
        assert task is not None
        return svc.get_image(image.id), self.tasks.get(task.id)


def chunks(data: bytes) -> Iterator[bytes]:
    yield data


def test_plugins_run_in_order_after_staging_on_glance_direct_and_web_download() -> None:
    log: list[tuple[str, str, str]] = []
    w = World([NamedPlugin("first", Recorder(log, "first")), Recorder(log, "second")])
    image, task = w.glance_direct()
    assert task.status == "success" and image.status == "active"
    assert log == [("first", "glance-direct", "importing"), ("second", "glance-direct",
                                                              "importing")]
    log.clear()
    svc = w.svc()
    other = svc.create_image(name="w", **formats())
    svc.import_image(other.id, ImportRequest(method="web-download", uri="http://x/y"))
    assert svc.get_image(other.id).status == "active"
    assert [entry[:2] for entry in log] == [("first", "web-download"),
                                            ("second", "web-download")]


def test_plugins_do_not_run_on_copy_image() -> None:
    log: list[tuple[str, str, str]] = []
    w = World([Recorder(log, "p")])
    image, _ = w.glance_direct()
    log.clear()
    admin = w.svc(roles=("admin", "member"))
    task = admin.import_image(image.id, ImportRequest(method="copy-image", stores=("fast",)))
    assert task is not None and w.tasks.get(task.id).status == "success"
    assert log == []


def test_a_plugin_replacing_the_staged_data_changes_what_is_stored() -> None:
    new = b"replaced" * 1000
    w = World([Recorder([], "r", lambda job: job.replace_staged(chunks(new)) and None)])
    image, _ = w.glance_direct()
    assert image.size == len(new)
    assert image.checksum == hashlib.md5(new).hexdigest()
    assert image.os_hash_value == hashlib.sha512(new).hexdigest()


def test_a_failing_plugin_fails_the_import_and_reverts_like_glance() -> None:
    def convert_then_fail(job: ImportJob) -> None:
        job.set_attributes(disk_format="qcow2", container_format="bare")
        job.set_properties({"kept": "yes"})
        raise RuntimeError("Image format mismatch")

    log: list[tuple[str, str, str]] = []
    w = World([NamedPlugin("boom", Recorder(log, "boom", convert_then_fail)),
               Recorder(log, "never")])
    image, task = w.glance_direct(disk_format="raw", container_format="bare")
    assert [name for name, *_ in log] == ["boom"]  # later plugins do not run
    assert task.status == "failure"
    assert task.message == "Import plugin boom failed: Image format mismatch"
    assert image.status == "queued" and image.locations == ()
    assert image.disk_format == "raw" and image.container_format == "bare"
    assert image.extra_properties["os_glance_failed_import"] == "default"
    assert image.extra_properties["os_glance_importing_to_stores"] == ""
    assert "os_glance_import_task" not in image.extra_properties
    assert image.extra_properties["kept"] == "yes"  # Glance keeps injected properties
    assert w.staging.count() == 0
    assert w.repo.usage("p1").stored_bytes == 0


def test_set_properties_drops_reserved_names_and_keeps_the_property_quota() -> None:
    w = World([Recorder([], "i", lambda job: job.set_properties(
        {"os_glance_evil": "x", "a": "1", "b": "2"}) and None)], image_property_quota=3)
    image, task = w.glance_direct(c="0")
    assert task.status == "success"
    assert image.extra_properties["a"] == "1" and image.extra_properties["b"] == "2"
    assert "os_glance_evil" not in image.extra_properties

    w = World([Recorder([], "i", lambda job: job.set_properties({"a": "1", "b": "2"})
                        and None)], image_property_quota=2)
    image, task = w.glance_direct(c="0")
    assert task.status == "failure" and image.status == "queued"
    assert task.message == ("Import plugin i failed: The limit has been exceeded on the number "
                            "of allowed image properties. Attempted: 3, Maximum: 2")
    assert "a" not in image.extra_properties


def test_set_attributes_refuses_anything_but_formats_and_sizes() -> None:
    seen: list[BaseException] = []

    def try_status(job: ImportJob) -> None:
        try:
            job.set_attributes(status="active")
        except AttributeError as exc:
            seen.append(exc)

    w = World([Recorder([], "s", try_status)])
    _image, task = w.glance_direct()
    assert task.status == "success" and "status" in str(seen[0])


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"image_size_cap": 150_000}, "The incoming image is too large"),
     ({"user_storage_quota": 150_000}, "Image exceeds the storage quota")],
)
def test_replaced_data_is_capped_at_the_size_cap_and_the_storage_quota(
    settings: dict[str, int], message: str
) -> None:
    """A decompression bomb stops at the limit: the import fails, nothing is stored."""
    seen: list[int] = []

    def bomb(job: ImportJob) -> None:
        seen.append(job.size_limit()[0])
        job.replace_staged(b"\0" * 10_000 for _ in range(10_000))  # 100 MB

    w = World([NamedPlugin("bomb", Recorder([], "bomb", bomb))], **settings)
    image, task = w.glance_direct()
    assert seen == [150_000]
    assert task.status == "failure" and message in task.message
    assert image.status == "queued" and w.staging.count() == 0


def test_size_limit_counts_what_the_owner_already_stores() -> None:
    limits: list[int] = []
    w = World([Recorder([], "l", lambda job: limits.append(job.size_limit()[0]))],
              user_storage_quota=500_000)
    w.glance_direct()
    w.glance_direct()
    assert limits == [500_000, 500_000 - len(DATA)]


def test_the_job_tells_who_imports_and_where_to() -> None:
    seen: list[tuple[object, ...]] = []
    w = World([Recorder([], "c", lambda job: seen.append(
        (job.roles, job.stores, job.context.user_id if job.context else None,
         job.staged_path(), b"".join(job.read_staged()))))])
    w.glance_direct(roles=("member", "reader"))
    assert seen == [(("member", "reader"), ("default",), "u-p1", None, DATA)]


def test_set_properties_follows_the_importing_users_property_protections() -> None:
    """Create needs 'create', a readable property 'update'; an existing property the user
    cannot read is never overwritten (as the API)."""
    from glance_domain.protections import PropertyProtections

    rules = PropertyProtections.from_sections({
        "^hidden_": {"create": "admin", "read": "admin", "update": "admin", "delete": "admin"},
        "^fixed_": {"create": "@", "read": "@", "update": "admin", "delete": "admin"},
        ".*": {"create": "@", "read": "@", "update": "@", "delete": "@"},
    })

    def inject(props: dict[str, str]) -> Callable[[ImportJob], None]:
        return lambda job: job.set_properties(props) and None

    cases = [
        ({"free": "1"}, {}, None),
        ({"fixed_a": "1"}, {}, None),  # created: allowed
        ({"fixed_a": "2"}, {"fixed_a": "1"}, "Attribute 'fixed_a' is reserved."),  # update
        ({"hidden_a": "1"}, {}, "Attribute 'hidden_a' is reserved."),
    ]
    for props, existing, refusal in cases:
        w = World([NamedPlugin("inject", Recorder([], "i", inject(props)))], rules)
        image, task = w.glance_direct(**existing)
        if refusal is None:
            assert task.status == "success", task.message
            assert all(image.extra_properties[k] == v for k, v in props.items())
        else:
            assert task.status == "failure"
            assert task.message == f"Import plugin inject failed: {refusal}"
