"""Upload leases and the recovery of abandoned uploads, on SQLite, PostgreSQL and MariaDB.

The processes are simulated by lease owners: another host's process (only its expiry tells),
a process of this host that is gone (recognised at once), and this process (alive). The stores
are real: a ``file`` backend in a tmp directory and the file staging area.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy import Engine, select, update

from glance_domain import errors
from glance_domain.model.image import Image
from glance_domain.model.status import transition
from glance_domain_adapters import upload_recovery
from glance_domain_adapters.db import upload_leases
from glance_domain_adapters.db.repository import SqlImageRepository
from glance_domain_adapters.db.tables import upload_leases as leases_table
from glance_domain_adapters.importing.staging import FileStagingArea
from glance_domain_adapters.stores import PluginStoreRegistry
from glance_domain_adapters.upload_recovery import UploadRecovery
from glance_store_plugins import Registry
from glance_store_plugins.drivers.filesystem import FileStore
from tests.conftest import ImageFactory

OTHER_HOST = "another-host/0b8f1e0e-0000-4000-8000-000000000000/4242/12345"


@pytest.fixture
def repo(db_engine: Engine) -> SqlImageRepository:
    return SqlImageRepository(db_engine, lease_seconds=30)


@pytest.fixture
def images_dir(tmp_path: Path) -> Path:
    path = tmp_path / "images"
    path.mkdir()
    return path


@pytest.fixture
def recovery(repo: SqlImageRepository, images_dir: Path, tmp_path: Path) -> UploadRecovery:
    store = FileStore({"filesystem_store_datadir": str(images_dir)}, backend="fs")
    stores = PluginStoreRegistry(Registry({"fs": store}, default="fs"))
    return UploadRecovery(repo, stores, FileStagingArea(str(tmp_path / "staging")))


def _lease(engine: Engine, image_id: str) -> tuple[str, str, dt.datetime] | None:
    with engine.connect() as conn:
        row = conn.execute(select(leases_table).where(
            leases_table.c.image_id == image_id)).first()
    return None if row is None else (row.kind, row.owner, row.expires_at)


def _set_lease(engine: Engine, image_id: str, owner: str, expires_in: float) -> None:
    with engine.begin() as conn:
        conn.execute(update(leases_table).where(leases_table.c.image_id == image_id).values(
            owner=owner,
            expires_at=upload_leases.utcnow() + dt.timedelta(seconds=expires_in)))


def _saving(repo: SqlImageRepository, make_image: ImageFactory) -> Image:
    image = repo.add(make_image(disk_format="raw", container_format="bare"))
    return repo.save(image, transition(image, "saving"))


def _partial(images_dir: Path, image_id: str) -> Path:
    """What a killed ``file`` store write leaves: its hidden temporary file."""
    path = images_dir / f".{image_id}.0123456789abcdef.partial"
    path.write_bytes(b"x" * 1000)
    return path


def test_a_lease_exists_exactly_while_the_data_is_written(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine) -> None:
    image = repo.add(make_image(disk_format="raw", container_format="bare"))
    assert _lease(db_engine, image.id) is None
    saving = repo.save(image, transition(image, "saving"))
    kind, owner, _ = _lease(db_engine, image.id) or ("", "", None)
    assert (kind, owner) == ("upload", upload_leases.process_owner())
    active = repo.save(saving, transition(saving, "active", size=3, checksum="c"))
    assert _lease(db_engine, image.id) is None
    assert active.status == "active"
    staged = repo.add(make_image(disk_format="raw", container_format="bare"))
    uploading = repo.save(staged, transition(staged, "uploading"))
    assert (_lease(db_engine, staged.id) or ("",))[0] == "stage"
    repo.save(uploading, attrs.evolve(uploading, size=5))  # the stage finished
    assert _lease(db_engine, staged.id) is None


def test_deleting_a_saving_image_drops_its_lease(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine) -> None:
    saving = _saving(repo, make_image)
    repo.remove(saving)
    assert _lease(db_engine, saving.id) is None


def test_a_live_lease_of_another_host_is_left_alone(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine,
        recovery: UploadRecovery, images_dir: Path) -> None:
    saving = _saving(repo, make_image)
    _set_lease(db_engine, saving.id, OTHER_HOST, expires_in=30)
    partial = _partial(images_dir, saving.id)
    assert recovery.run_once() == []
    assert repo.get(saving.id).status == "saving"
    assert partial.exists()


def test_an_expired_lease_is_recovered_and_its_partial_bytes_removed(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine,
        recovery: UploadRecovery, images_dir: Path) -> None:
    saving = _saving(repo, make_image)
    _set_lease(db_engine, saving.id, OTHER_HOST, expires_in=-1)
    partial = _partial(images_dir, saving.id)
    other = _partial(images_dir, "0b8f1e0e-aaaa-4000-8000-000000000000")  # not this image's
    assert recovery.run_once() == [saving.id]
    assert repo.get(saving.id).status == "queued"
    assert not partial.exists() and other.exists()
    assert _lease(db_engine, saving.id) is None
    assert recovery.run_once() == []


def test_a_dead_process_of_this_host_is_recognised_before_its_lease_expires(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine,
        recovery: UploadRecovery, images_dir: Path) -> None:
    saving = _saving(repo, make_image)
    child = os.fork()
    if child == 0:  # a process that exists only to have died
        os._exit(0)
    os.waitpid(child, 0)
    owner = upload_leases.process_owner().rsplit("/", 2)[0] + f"/{child}/1"
    _set_lease(db_engine, saving.id, owner, expires_in=30)
    assert upload_leases.owner_gone(owner)
    assert not upload_leases.owner_gone(upload_leases.process_owner())
    partial = _partial(images_dir, saving.id)
    assert recovery.run_once() == [saving.id]
    assert repo.get(saving.id).status == "queued"
    assert not partial.exists()


def test_an_abandoned_stage_returns_to_queued_without_its_temporary_file(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine,
        recovery: UploadRecovery, tmp_path: Path) -> None:
    image = repo.add(make_image(disk_format="raw", container_format="bare"))
    repo.save(image, transition(image, "uploading"))
    _set_lease(db_engine, image.id, OTHER_HOST, expires_in=-1)
    temp = tmp_path / "staging" / f".staging-{image.id}-abc"
    temp.write_bytes(b"half")
    assert recovery.run_once() == [image.id]
    assert repo.get(image.id).status == "queued"
    assert not temp.exists()


def test_one_of_two_racing_recoveries_wins(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine) -> None:
    saving = _saving(repo, make_image)
    _set_lease(db_engine, saving.id, OTHER_HOST, expires_in=-1)
    found = upload_leases.abandoned(db_engine, upload_leases.utcnow())
    assert [lease.image_id for lease in found] == [saving.id]
    now = upload_leases.utcnow()
    assert upload_leases.claim(db_engine, found[0], now, 30)
    assert not upload_leases.claim(db_engine, found[0], now, 30)


def test_a_writer_whose_lease_was_taken_over_cannot_finish(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine) -> None:
    saving = _saving(repo, make_image)
    _set_lease(db_engine, saving.id, OTHER_HOST, expires_in=30)  # the recovering process
    with pytest.raises(errors.Conflict):
        repo.save(saving, transition(saving, "active", size=3, checksum="c"))
    assert repo.get(saving.id).status == "saving"


def test_renewal_pushes_the_expiry_of_this_process_leases_only(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine) -> None:
    mine, theirs = _saving(repo, make_image), _saving(repo, make_image)
    _set_lease(db_engine, mine.id, upload_leases.process_owner(), expires_in=-5)
    _set_lease(db_engine, theirs.id, OTHER_HOST, expires_in=-5)
    assert upload_leases.renew(db_engine, upload_leases.utcnow(), 30) == 1
    now = upload_leases.utcnow()
    assert (_lease(db_engine, mine.id) or ("", "", now))[2].replace(tzinfo=None) > now
    assert (_lease(db_engine, theirs.id) or ("", "", now))[2].replace(tzinfo=None) < now


def test_migration_0005_gives_images_stuck_by_older_versions_an_expired_lease(
        tmp_path: Path, make_image: ImageFactory) -> None:
    from glance_domain_adapters.db import migrate
    from glance_domain_adapters.db.engine import make_engine
    from glance_domain_adapters.db.tables import images

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    migrate.upgrade(url, "0004_tasks")
    engine = make_engine(url)
    stuck = make_image(status="saving", disk_format="raw", container_format="bare")
    fine = make_image(status="active", size=3)
    staged = make_image(status="uploading", size=4)  # a finished stage waiting for its import
    with engine.begin() as conn:
        for image in (stuck, fine, staged):
            conn.execute(images.insert().values(
                id=image.id, name=image.name, status=image.status, size=image.size,
                visibility="shared", protected=False, os_hidden=False, owner="p",
                min_disk=0, min_ram=0, created_at=image.created_at, deleted=False))
    migrate.upgrade(url)
    found = upload_leases.abandoned(engine, upload_leases.utcnow())
    assert [(lease.image_id, lease.kind) for lease in found] == [(stuck.id, "upload")]
    engine.dispose()


def _until(check: Any, timeout: float = 15) -> bool:
    """Poll ``check`` until it is true (a bounded wait); its last answer."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(check())


def test_the_lease_keeper_renews_a_live_upload(
        db_engine: Engine, make_image: ImageFactory, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    # the keeper already sleeps for a long lease of another database (as after earlier
    # uploads with the default 60 s lease): a short lease must wake it, not wait its turn
    from glance_domain_adapters.db.engine import make_engine

    monkeypatch.setattr(upload_leases.LeaseKeeper, "_engines", {})
    long_lived = make_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    upload_leases.LeaseKeeper.hold(long_lived, 600)
    time.sleep(0.2)
    repo = SqlImageRepository(db_engine, lease_seconds=3)  # renewed every second
    saving = _saving(repo, make_image)
    _set_lease(db_engine, saving.id, upload_leases.process_owner(), expires_in=-5)
    now = upload_leases.utcnow()

    def renewed() -> bool:
        lease = _lease(db_engine, saving.id)
        return lease is not None and lease[2].replace(tzinfo=None) > now

    assert _until(renewed)


def test_the_recovery_thread_runs_periodically(
        repo: SqlImageRepository, make_image: ImageFactory, db_engine: Engine,
        recovery: UploadRecovery) -> None:
    running = upload_recovery.start(recovery, interval=0.2)
    try:
        saving = _saving(repo, make_image)
        _set_lease(db_engine, saving.id, OTHER_HOST, expires_in=-1)  # abandoned after the start
        assert _until(lambda: repo.get(saving.id).status == "queued")
    finally:
        running.stop(timeout=10)
