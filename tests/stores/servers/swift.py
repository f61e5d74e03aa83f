"""An OpenStack Swift all-in-one on 127.0.0.1 for the tests: a proxy with tempauth (and SLO),
account, container and object servers on one-replica rings, and the memcached tempauth needs.

Everything lives in one temporary directory (swift.conf, rings, server configs, the device);
each server runs as one process (``workers = 0``) under the system Python, which has the Debian
``swift`` packages, and is killed by :meth:`stop`. Start-up takes about 3 s. Debian packages:
``swift swift-proxy swift-account swift-container swift-object memcached``.

Run ``.venv/bin/python -m tests.stores.servers.swift`` to start one by hand (Ctrl-C stops it).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from tests.stores.servers import (
    ServerUnavailable,
    die_with_parent,
    free_port,
    require_programs,
    stop_all,
    wait_for,
)

PACKAGES = "swift swift-proxy swift-account swift-container swift-object memcached"
PROGRAMS = ("swift-proxy-server", "swift-account-server", "swift-container-server",
            "swift-object-server", "memcached")
#: The system interpreter that has the Debian swift packages.
SYSTEM_PYTHON = "/usr/bin/python3"

#: Builds the one-device, one-replica rings, then runs every server of the all-in-one in one
#: process (one interpreter start instead of five: importing swift takes seconds on a busy
#: machine). argv: the swift dir, the account, container and object ports, the conf files.
_SERVE = """
import sys
from swift.common.ring import RingBuilder
for kind, port in zip(("account", "container", "object"), sys.argv[2:5]):
    if port == "0":  # an extra proxy on existing rings
        continue
    builder = RingBuilder(8, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": int(port),
                     "device": "d1", "weight": 100})
    builder.rebalance()
    builder.get_ring().save(f"{sys.argv[1]}/{kind}.ring.gz")
from swift.common.utils import eventlet_monkey_patch, set_swift_dir, validate_configuration
eventlet_monkey_patch()
set_swift_dir(sys.argv[1])
validate_configuration()
import eventlet
from swift.common import wsgi
from swift.common.utils import NullLogger
pool = eventlet.GreenPool()
for conf_file in sys.argv[5:]:
    conf = wsgi.appconfig(conf_file)
    app = wsgi.loadapp(conf_file)
    sock = eventlet.listen(("127.0.0.1", int(conf["bind_port"])))
    pool.spawn(eventlet.wsgi.server, sock, app, NullLogger(), protocol=wsgi.SwiftHttpProtocol,
               capitalize_response_headers=False)
print("listening", flush=True)
pool.waitall()
"""

_STORAGE_CONF = """[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {dir}
devices = {dir}/srv
mount_check = false
disable_fallocate = true
log_name = {kind}

[pipeline:main]
pipeline = healthcheck {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}

[filter:healthcheck]
use = egg:swift#healthcheck
"""

_PROXY_CONF = """[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {dir}
log_name = proxy

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempauth
    copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:tempauth]
use = egg:swift#tempauth
user_{account}_{user} = {key} .admin
user_other_{user} = {key} .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
"""


_KEYSTONE_FILTERS = """
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
delay_auth_decision = true
memcached_servers = 127.0.0.1:{memcached}
{authtoken}
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
"""


class SwiftAIO:
    """A running Swift all-in-one; attributes describe how to reach it."""

    def __init__(self) -> None:
        require_programs(PROGRAMS, PACKAGES)
        if not Path(SYSTEM_PYTHON).exists():
            raise ServerUnavailable(f"{SYSTEM_PYTHON} (with the swift package) is missing")
        self.dir = Path(tempfile.mkdtemp(prefix="gd-swift-"))
        self.account = "glance"
        self.user = "tester"
        self.key = uuid.uuid4().hex
        self.proxy_port = 0
        self._memcached = 0
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def auth_url(self) -> str:
        """tempauth's v1 endpoint (user ``glance:tester``, key :attr:`key`)."""
        return f"http://127.0.0.1:{self.proxy_port}/auth/v1.0"

    def start(self) -> SwiftAIO:
        """Build the rings and start every server; ServerUnavailable on failure."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        with open(self.dir / "log" / f"{name}.out", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self._procs.append(proc)
        return proc

    def _start(self) -> None:
        d = self.dir
        for sub in ("srv/d1", "log"):
            (d / sub).mkdir(parents=True)
        (d / "swift.conf").write_text(
            f"[swift-hash]\nswift_hash_path_suffix = {uuid.uuid4().hex}\n"
            f"swift_hash_path_prefix = {uuid.uuid4().hex}\n\n"
            "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
        )
        ports = {kind: free_port() for kind in ("account", "container", "object")}
        memcached_port = self._memcached = free_port()
        memcached = self._spawn(["memcached", "-l", "127.0.0.1", "-p", str(memcached_port),
                                 "-U", "0", "-m", "16", "-u", "root"], "memcached")
        self.proxy_port = free_port()
        confs = []
        for kind, port in ports.items():
            conf = d / f"{kind}-server.conf"
            conf.write_text(_STORAGE_CONF.format(port=port, dir=d, kind=kind))
            confs.append(str(conf))
        conf = d / "proxy-server.conf"
        conf.write_text(_PROXY_CONF.format(port=self.proxy_port, dir=d, account=self.account,
                                           user=self.user, key=self.key,
                                           memcached=memcached_port))
        confs.append(str(conf))
        servers = self._spawn([SYSTEM_PYTHON, "-c", _SERVE, str(d),
                                   *map(str, ports.values()), *confs], "swift")
        for port in [*ports.values(), self.proxy_port]:
            wait_for(lambda port=port: _healthy(port),  # type: ignore[misc]
                     f"swift server on port {port}", 60, [servers, memcached])

    def start_keystone_proxy(self, authtoken_section: str) -> int:
        """Start a second proxy, authenticating with Keystone (keystonemiddleware's authtoken
        configured by ``authtoken_section``, a ``[keystone_authtoken]`` body, and swift's
        keystoneauth: the roles admin and member operate their project's ``AUTH_<id>``
        account); return its port. Needs Debian's python3-keystonemiddleware."""
        check = subprocess.run([SYSTEM_PYTHON, "-c", "import keystonemiddleware.auth_token"],
                               capture_output=True, timeout=60)
        if check.returncode != 0:
            raise ServerUnavailable("keystonemiddleware is missing for the Swift proxy: "
                                    "apt-get install python3-keystonemiddleware")
        port = free_port()
        text = _PROXY_CONF.format(port=port, dir=self.dir, account=self.account,
                                  user=self.user, key=self.key, memcached=self._memcached)
        text = text.replace(" tempauth\n", " authtoken keystoneauth\n")
        body = authtoken_section.split("\n", 1)[1] if authtoken_section.startswith("[") else (
            authtoken_section)
        conf = self.dir / "proxy-keystone.conf"
        conf.write_text(text + _KEYSTONE_FILTERS.format(authtoken=body,
                                                        memcached=self._memcached))
        proc = self._spawn([SYSTEM_PYTHON, "-c", _SERVE, str(self.dir), "0", "0", "0",
                            str(conf)], "proxy-keystone")
        wait_for(lambda: _healthy(port), f"keystone swift proxy on port {port}", 60, [proc])
        return port

    def stop(self) -> None:
        """Kill every server and remove the directory."""
        stop_all(self._procs, grace=3)
        self._procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthcheck", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


if __name__ == "__main__":  # pragma: no cover - manual use
    import time

    from tests.stores.servers import stop_on_sigterm

    stop_on_sigterm()
    started = time.monotonic()
    aio = SwiftAIO().start()
    print(f"swift up in {time.monotonic() - started:.1f} s: {aio.auth_url} "
          f"{aio.account}:{aio.user} {aio.key}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        aio.stop()
