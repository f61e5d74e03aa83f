"""An unreachable database gives ServiceUnavailable, and the repository recovers by itself."""

from __future__ import annotations

import socket
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from glance_domain import errors
from glance_domain.query import ImageQuery, ListScope
from glance_domain_adapters.db.engine import make_engine
from glance_domain_adapters.db.repository import SqlImageRepository

SERVER_BACKENDS = ("postgresql", "mariadb")


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TcpProxy:
    """A loopback TCP forwarder that can be stopped (dropping every connection) and restarted."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._listener is not None:
            try:  # wakes the thread blocked in accept() (close alone does not on Linux)
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def _url_via(url: str, port: int) -> str:
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_unreachable_server_is_service_unavailable(
    request: pytest.FixtureRequest, backend: str
) -> None:
    url = _url_via(str(request.getfixturevalue(f"{backend}_url")), closed_port())
    engine = make_engine(url)
    repo = SqlImageRepository(engine)
    with pytest.raises(errors.ServiceUnavailable):
        repo.get(str(uuid.uuid4()))
    with pytest.raises(errors.ServiceUnavailable):
        repo.list(ImageQuery(), ListScope(unrestricted=True))
    engine.dispose()


def test_unopenable_sqlite_database_is_service_unavailable(tmp_path: Any) -> None:
    (tmp_path / "a-directory").mkdir()
    engine = make_engine(f"sqlite:///{tmp_path / 'a-directory'}")
    try:
        with pytest.raises(errors.ServiceUnavailable):
            SqlImageRepository(engine).get(str(uuid.uuid4()))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_repository_recovers_when_the_database_comes_back(
    request: pytest.FixtureRequest, fresh_engine: Any, make_image: Any, backend: str
) -> None:
    fresh_engine(backend)  # empty tables
    direct = make_url(str(request.getfixturevalue(f"{backend}_url")))
    proxy = TcpProxy(direct.host or "127.0.0.1", direct.port or 0)
    proxy.start()
    engine = make_engine(_url_via(direct.render_as_string(hide_password=False), proxy.port))
    repo = SqlImageRepository(engine)
    try:
        image = repo.add(make_image())
        assert repo.get(image.id).id == image.id  # a pooled connection now exists

        proxy.stop()
        with pytest.raises(errors.ServiceUnavailable):
            repo.get(image.id)
        with pytest.raises(errors.ServiceUnavailable):
            repo.add(make_image())

        proxy.start()  # same port
        assert repo.get(image.id).id == image.id
        second = repo.add(make_image())
        assert len(repo.list(ImageQuery(), ListScope(unrestricted=True))) == 2
        assert repo.get(second.id).id == second.id
    finally:
        proxy.stop()
        engine.dispose()


def test_a_value_the_database_cannot_hold_is_invalid_input(
    db_engine: Any, make_image: Any
) -> None:
    """SQLite stores anything; PostgreSQL and MariaDB (strict mode) refuse it."""
    repo = SqlImageRepository(db_engine)
    with pytest.raises(errors.InvalidInput):
        repo.add(make_image(size=2**70))
    if db_engine.dialect.name == "sqlite":
        return
    with pytest.raises(errors.InvalidInput):
        repo.add(make_image(name="x" * 300))
