"""Property-based fuzzing of the real server over its own OpenAPI document (issue 12, 5).

A ``glance-domain serve`` of its own (loopback, SQLite, a file store, the image cache API on,
trusted identity headers) is driven by schemathesis: for every documented operation, at most
``CASES_PER_OPERATION`` generated requests (schema-valid and schema-violating ones), each sent
as a confirmed keystone identity (an admin, the owner project's member, or another project's
member). A case fails on any 5xx, on a request that does not answer within
``REQUEST_TIMEOUT`` seconds (a hang), and on a response the document does not describe:
undocumented status code, content type or required header, or a JSON body that does not match
the response schema. The figures (cases run, 5xx seen) are printed at the end of the module and
recorded in docs/security.md.

Path parameters are mostly random (not found), so each operation also gets a fresh pool of
real resources (a queued, an active, a deactivated and a shared image, a task, a metadefs
namespace with a property, an object, a tag and a resource type) and a drawn share of its cases
aims at them.

No request leaves the machine: web-download, legacy task imports and http locations pass the
``[import_filtering_opts]`` filtering first, whose ``allowed_hosts`` here is only 127.0.0.1 (and
the address guard refuses loopback).

``GLANCE_FUZZ_CASES=N`` changes the cases per operation; ``GLANCE_FUZZ_DATABASE=URL`` runs the
server on that (empty) database instead of SQLite, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/fuzz``.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from glance_domain.settings import DomainSettings
from glance_domain_adapters.wsgi.app import schema_documents
from glance_domain_adapters.wsgi.openapi import build_document
from glance_domain_adapters.wsgi.patch import MEDIA_TYPES
from tests.e2e.conftest import (
    _console_script,
    _free_port,
    _wait_until_up,
    stop_server,
)

ROOT = Path(__file__).resolve().parents[2]
#: Bounded work: ~86 operations x this many cases (the whole module takes about a minute).
CASES_PER_OPERATION = int(os.environ.get("GLANCE_FUZZ_CASES", "25"))
REQUEST_TIMEOUT = 20.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]

DOCUMENT = build_document(schema_documents(DomainSettings()))
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@schemathesis.serializer(*MEDIA_TYPES)
def _json_patch(ctx: Any, value: Any) -> bytes:
    """Image PATCH bodies are JSON under Glance's two patch media types."""
    return json.dumps(value).encode()


def _identity(project: str, roles: str) -> dict[str, str]:
    return {"X-Identity-Status": "Confirmed", "X-Project-Id": project,
            "X-User-Id": f"user-{project}", "X-Roles": roles, "Accept": "application/json"}


ADMIN = _identity("fuzz-admin", "admin,member,reader")
IDENTITIES = [ADMIN, _identity("fuzz-admin", "member,reader"),
              _identity("fuzz-other", "member,reader")]
MEMBER = "fuzz-other"

SERVER_CONFIG = """\
[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 1
data_dir = {data}
enabled_backends = fs:file
image_size_cap = 1048576
image_cache_dir = {data}/cache

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = {data}/images

[import_filtering_opts]
allowed_hosts = 127.0.0.1
"""


class Tally:
    """What the fuzzing did, for the closing summary."""

    def __init__(self) -> None:
        self.cases = 0
        self.statuses: collections.Counter[int] = collections.Counter()
        self.server_errors: list[str] = []
        self.operations = 0


@pytest.fixture(scope="module")
def fuzz_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fuzz-server")
    port = _free_port()
    conf = root / "glance-api.conf"
    text = SERVER_CONFIG.format(port=port, data=root / "data")
    database = os.environ.get("GLANCE_FUZZ_DATABASE")  # an empty database's SQLAlchemy URL
    if database:
        text += f"\n[database]\nconnection = {database}\n"
    conf.write_text(text)
    log = root / "server.log"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    if database:
        subprocess.run([_console_script("glance-domain"), "db", "upgrade", "--config-file",
                        str(conf)], env=env, cwd=root, check=True, capture_output=True,
                       timeout=300)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [_console_script("glance-domain"), "serve", "--config-file", str(conf)],
            stdout=out, stderr=subprocess.STDOUT, cwd=root, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield url
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Tally]:
    result = Tally()
    yield result
    lines = [
        f"OpenAPI fuzz: {result.cases} cases over {result.operations} operations, "
        f"{len(result.server_errors)} 5xx; statuses {dict(sorted(result.statuses.items()))}",
        *(f"  5xx: {e}" for e in result.server_errors),
    ]
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:  # e.g. an xdist worker: plain output
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


def _ok(resp: Any) -> Any:
    assert resp.status_code < 300, (resp.request.method, resp.request.url, resp.text)
    return resp


@pytest.fixture(scope="module")
def task_id(fuzz_url: str) -> str:
    """A real task (tasks are never deleted): a glance-direct import of staged data."""
    session, base = requests.Session(), f"{fuzz_url}/v2/images"
    image = _ok(session.post(base, headers=ADMIN, json={
        "name": "fuzz-import", "disk_format": "raw", "container_format": "bare"})).json()["id"]
    _ok(session.put(f"{base}/{image}/stage", data=b"fuzz" * 256, headers={
        **ADMIN, "Content-Type": "application/octet-stream"}))
    _ok(session.post(f"{base}/{image}/import", headers=ADMIN,
                     json={"method": {"name": "glance-direct"}}))
    tasks = _ok(session.get(f"{base}/{image}/tasks", headers=ADMIN)).json()["tasks"]
    return str(tasks[0]["id"])


class Pool:
    """Real resources for one operation's cases (made fresh: the operation may delete them)."""

    def __init__(self, url: str, path: str, tag: str, task_id: str) -> None:
        self.url = url
        self.session = requests.Session()
        self.images = ["none"]
        if "{image_id}" in path:
            self.images = [self._image(tag, state) for state in
                           ("queued", "active", "deactivated", "shared")]
        self.namespace = f"fuzz-ns-{tag}"
        if "{namespace}" in path:
            self._namespace()
        self.task = task_id

    def _namespace(self) -> None:
        url = self.url
        self._ok(self.session.post(f"{url}/v2/metadefs/namespaces", headers=ADMIN, json={
            "namespace": self.namespace, "visibility": "public",
            "properties": {"fuzz-prop": {"title": "p", "type": "string"}},
            "objects": [{"name": "fuzz-object"}], "tags": [{"name": "fuzz-tag"}],
            "resource_type_associations": [{"name": "OS::Glance::Image"}]}))

    @staticmethod
    def _ok(resp: Any) -> Any:
        return _ok(resp)

    def _image(self, tag: str, state: str) -> str:
        base = f"{self.url}/v2/images"
        image = self._ok(self.session.post(base, headers=IDENTITIES[1], json={
            "name": f"fuzz-{tag}-{state}", "disk_format": "raw", "container_format": "bare",
            "tags": ["fuzz-tag"]})).json()["id"]
        if state != "queued":
            self._ok(self.session.put(f"{base}/{image}/file", data=b"fuzz" * 256, headers={
                **IDENTITIES[1], "Content-Type": "application/octet-stream"}))
        if state == "deactivated":
            self._ok(self.session.post(f"{base}/{image}/actions/deactivate", headers=ADMIN))
        if state == "shared":
            self._ok(self.session.patch(f"{base}/{image}", headers={
                **IDENTITIES[1], "Content-Type": "application/openstack-images-v2.1-json-patch"},
                data=json.dumps([{"op": "replace", "path": "/visibility", "value": "shared"}])))
            self._ok(self.session.post(f"{base}/{image}/members", headers=IDENTITIES[1],
                                       json={"member": MEMBER}))
        return image

    def values(self, pick: int) -> dict[str, str]:
        """Path parameter values naming real resources (``pick`` chooses the image)."""
        return {"image_id": self.images[pick % len(self.images)], "member_id": MEMBER,
                "tag_value": "fuzz-tag", "store_id": "fs", "task_id": self.task,
                "namespace": self.namespace, "resource_type": "OS::Glance::Image",
                "name": {0: "fuzz-prop", 1: "fuzz-object"}.get(pick % 3, "fuzz-tag")}


def _cases(operation: Any) -> Any:
    """Schema-valid and schema-violating requests (where the operation has anything to
    violate)."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    try:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:
        pass
    return st.one_of(strategies)


def test_served_document_is_the_fuzzed_one(fuzz_url: str) -> None:
    resp = requests.get(f"{fuzz_url}/v2/openapi.json", headers=ADMIN, timeout=REQUEST_TIMEOUT)
    assert resp.status_code == 200
    assert resp.json() == json.loads(json.dumps(DOCUMENT))


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_answers_as_documented(
    operation: Any, fuzz_url: str, task_id: str, tally: Tally,
) -> None:
    tally.operations += 1
    pool = None
    if "{" in operation.path:
        pool = Pool(fuzz_url, operation.path, str(tally.operations), task_id)

    @settings(max_examples=CASES_PER_OPERATION, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, print_blob=True)
    @given(case=_cases(operation), pick=st.integers(0, 7),
           who=st.sampled_from(IDENTITIES))
    def run(case: Any, pick: int, who: dict[str, str]) -> None:
        if pool is not None and pick < 4:  # half the cases aim at real resources
            values = pool.values(pick)
            case.path_parameters = {k: values.get(k, v) for k, v in case.path_parameters.items()}
        tally.cases += 1
        response = case.call(base_url=fuzz_url, headers=who, timeout=REQUEST_TIMEOUT)
        tally.statuses[response.status_code] += 1
        if response.status_code >= 500:
            tally.server_errors.append(f"{operation.label}: {response.status_code}")
        case.validate_response(response, checks=CHECKS)

    run()
