"""Property protections over HTTP: the real application built by ``bootstrap.build_app`` from a
glance-api.conf that sets ``property_protection_file`` (SQLite, file store, oslo.policy), with the
caller's identity from X-Roles / X-Project-Id, as Glance 33 answers (see docs/conformance.md for
where we deliberately differ)."""

from __future__ import annotations

import logging
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from glance_domain_adapters import bootstrap, config
from tests.cli.cli_harness import SCRIPT
from tests.wsgi.conftest import Client, identity

ROLES_FILE = """
[^x_owner_.*]
create = admin,member
read = admin,member
update = admin,member
delete = admin,member

[spl_create_only]
create = admin,spl_role
read = admin
update = admin
delete = admin

[x_read_only]
create = admin
read = @
update = admin
delete = admin

[x_update]
create = admin
read = admin,Member
update = admin,MEMBER
delete = admin

[x_delete]
create = admin
read = admin,member
update = admin
delete = admin,member

[^x_all_permitted]
create = @
read = @
update = @
delete = @

[^x_none_permitted]
create = !
read = !
update = !
delete = !

[os_glance.*]
create = !
read = !
update = !
delete = !

[^secret_]
create = admin
read = admin
update = admin
delete = admin
"""

POLICIES_FILE = """
[^x_billing_.*]
create = billing_creator
read = @
update = billing_creator
delete = !

[^x_audit_.*]
create = billing_creator
read = auditor_only
update =
delete = billing_creator
"""

POLICY_YAML = """
"billing_creator": "role:admin or role:billing"
"auditor_only": "role:auditor"
"""

ADMIN = identity("p1", "admin,member,reader", "admin-user")
MEMBER = identity("p1", "member,reader", "member-user")
SPL = identity("p1", "member,reader,spl_role", "spl-user")
BILLING = identity("p1", "member,reader,BILLING", "billing-user")
AUDITOR = identity("p1", "member,reader,auditor", "auditor-user")


def _write_conf(folder: Path, extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "glance-api.conf"
    conf.write_text(
        f"[DEFAULT]\ndata_dir = {folder / 'data'}\nenabled_backends = fs:file\n{extra}"
        "[glance_store]\ndefault_backend = fs\n"
        f"[fs]\nfilesystem_store_datadir = {folder / 'images'}\n")
    return conf


def _app(conf_file: Path) -> Callable[..., Any]:
    return bootstrap.build_app(bootstrap.load_config(config_files=[str(conf_file)]))


@pytest.fixture(scope="module")
def roles_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    folder = tmp_path_factory.mktemp("roles")
    (folder / "property-protections.conf").write_text(ROLES_FILE)
    # a relative path is found next to the configuration file, as in Glance
    return _app(_write_conf(folder, "property_protection_file = property-protections.conf\n"))


@pytest.fixture(scope="module")
def policies_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    folder = tmp_path_factory.mktemp("policies")
    (folder / "protections.conf").write_text(POLICIES_FILE)
    (folder / "policy.yaml").write_text(POLICY_YAML)
    return _app(_write_conf(
        folder,
        f"property_protection_file = {folder / 'protections.conf'}\n"
        "property_protection_rule_format = policies\n"
        f"[oslo_policy]\npolicy_file = {folder / 'policy.yaml'}\n"))


@pytest.fixture
def api(roles_app: Callable[..., Any]) -> Client:
    return Client(roles_app, MEMBER)


def _extra(image: dict[str, Any]) -> dict[str, Any]:
    core = {"id", "name", "status", "visibility", "protected", "os_hidden", "checksum",
            "os_hash_algo", "os_hash_value", "owner", "size", "virtual_size", "min_disk",
            "min_ram", "container_format", "disk_format", "created_at", "updated_at", "tags",
            "self", "file", "schema", "stores"}
    return {k: v for k, v in image.items() if k not in core}


def _create(api: Client, as_: dict[str, str], **props: Any) -> Any:
    return api.post("/v2/images", {"name": "pp", **props}, as_=as_)


def _admin_image(api: Client, **props: Any) -> dict[str, Any]:
    resp = _create(api, ADMIN, **props)
    assert resp.status_int == 201, resp.text
    return dict(resp.json)


def _show(api: Client, image_id: str, as_: dict[str, str]) -> dict[str, Any]:
    resp = api.get(f"/v2/images/{image_id}", as_=as_)
    assert resp.status_int == 200, resp.text
    return _extra(resp.json)


def _reserved(resp: Any, name: str) -> None:
    """Glance's ReservedProperty answer: 403 with the message as the explanation."""
    assert resp.status_int == 403, resp.text
    assert f"Attribute '{name}' is reserved." in resp.text
    assert "Access was denied" not in resp.text


# -- roles format --------------------------------------------------------------------------

def test_create_with_a_permitted_property(api: Client) -> None:
    resp = _create(api, MEMBER, x_owner_foo="bar")
    assert resp.status_int == 201, resp.text
    assert _extra(resp.json) == {"x_owner_foo": "bar"}


@pytest.mark.parametrize(
    ("who", "prop"),
    [
        (MEMBER, "no_section_matches"),
        (MEMBER, "x_read_only"),  # create: admin only
        (ADMIN, "x_none_permitted_x"),  # '!': not even admin
        (MEMBER, "spl_create_only"),  # spl_role only
    ],
)
def test_create_with_a_refused_property_is_403(api: Client, who: dict[str, str],
                                                prop: str) -> None:
    resp = api.post("/v2/images", {"name": "pp", prop: "v"}, as_=who,
                    headers={"Accept": "application/json"})
    _reserved(resp, prop)


def test_everybody_may_use_an_at_property(api: Client) -> None:
    stranger = identity("p1", "member,joe_soap", "joe")
    resp = _create(api, stranger, x_all_permitted_1="1")
    assert resp.status_int == 201 and _extra(resp.json) == {"x_all_permitted_1": "1"}
    image_id = resp.json["id"]
    assert _show(api, image_id, identity("p1", "reader,joe_soap")) == {"x_all_permitted_1": "1"}
    ok = api.patch(f"/v2/images/{image_id}",
                   [{"op": "replace", "path": "/x_all_permitted_1", "value": "2"}], as_=stranger)
    assert ok.status_int == 200 and _extra(ok.json) == {"x_all_permitted_1": "2"}


def test_show_and_list_hide_unreadable_properties(api: Client) -> None:
    image = _admin_image(api, secret_s="s", x_owner_a="1", x_read_only="r", x_update="u")
    assert _extra(image) == {"secret_s": "s", "x_owner_a": "1", "x_read_only": "r",
                             "x_update": "u"}
    member_view = {"x_owner_a": "1", "x_read_only": "r", "x_update": "u"}
    assert _show(api, image["id"], MEMBER) == member_view
    assert _show(api, image["id"], identity("p1", "reader,observer")) == {"x_read_only": "r"}
    listed = api.get("/v2/images?name=pp", as_=MEMBER).json["images"]
    assert [_extra(i) for i in listed if i["id"] == image["id"]] == [member_view]
    # filters match the stored properties, as Glance's database query does
    filtered = api.get("/v2/images?secret_s=s", as_=MEMBER).json["images"]
    assert [(i["id"], _extra(i)) for i in filtered] == [(image["id"], member_view)]


def test_created_answer_hides_a_property_the_creator_cannot_read(api: Client) -> None:
    resp = _create(api, SPL, spl_create_only="c", x_owner_z="z")
    assert resp.status_int == 201, resp.text
    assert _extra(resp.json) == {"x_owner_z": "z"}
    assert _show(api, resp.json["id"], ADMIN) == {"spl_create_only": "c", "x_owner_z": "z"}


@pytest.mark.parametrize(
    ("ops", "status", "text"),
    [
        # a property the caller cannot read does not exist for it
        ([{"op": "replace", "path": "/secret_s", "value": "z"}], 409,
         "Property secret_s does not exist."),
        ([{"op": "remove", "path": "/secret_s"}], 409, "Property secret_s does not exist."),
        # ... and adding it is a create, which it may not do
        ([{"op": "add", "path": "/secret_s", "value": "z"}], 403,
         "Attribute 'secret_s' is reserved."),
        # readable but not updatable / deletable
        ([{"op": "replace", "path": "/x_read_only", "value": "z"}], 403,
         "Attribute 'x_read_only' is reserved."),
        ([{"op": "add", "path": "/x_read_only", "value": "z"}], 403,
         "Attribute 'x_read_only' is reserved."),
        ([{"op": "remove", "path": "/x_read_only"}], 403, "Attribute 'x_read_only' is reserved."),
        ([{"op": "add", "path": "/x_none_permitted", "value": "z"}], 403,
         "Attribute 'x_none_permitted' is reserved."),
        ([{"op": "add", "path": "/unmatched", "value": "z"}], 403,
         "Attribute 'unmatched' is reserved."),
        # in order: the first failing operation answers
        ([{"op": "add", "path": "/x_read_only", "value": "z"},
          {"op": "replace", "path": "/missing", "value": "z"}], 403,
         "Attribute 'x_read_only' is reserved."),
        ([{"op": "replace", "path": "/missing", "value": "z"},
          {"op": "add", "path": "/x_read_only", "value": "z"}], 409,
         "Property missing does not exist."),
    ],
)
def test_patch_refusals(api: Client, ops: list[dict[str, Any]], status: int, text: str) -> None:
    image = _admin_image(api, secret_s="s", x_read_only="r", x_owner_a="1")
    resp = api.patch(f"/v2/images/{image['id']}", ops, as_=MEMBER)
    assert resp.status_int == status, resp.text
    assert text in resp.text
    assert _show(api, image["id"], ADMIN) == {"secret_s": "s", "x_read_only": "r",
                                             "x_owner_a": "1"}


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ({"op": "replace", "path": "/x_update", "value": "u2"}, {"x_update": "u2"}),
        ({"op": "add", "path": "/x_update", "value": "u3"}, {"x_update": "u3"}),  # an update
        ({"op": "remove", "path": "/x_delete"}, {}),
        ({"op": "add", "path": "/x_owner_new", "value": "n"}, {"x_owner_new": "n"}),
    ],
)
def test_patch_allowed(api: Client, op: dict[str, Any], expected: dict[str, str]) -> None:
    image = _admin_image(api, secret_s="s", x_update="u", x_delete="d")
    resp = api.patch(f"/v2/images/{image['id']}", [op], as_=MEMBER)
    assert resp.status_int == 200, resp.text
    member_view = {"x_update": "u", "x_delete": "d"}
    member_view.pop(op["path"][1:], None)
    assert _extra(resp.json) == {**member_view, **expected}
    # what the member could not read is still there
    assert _show(api, image["id"], ADMIN) == {"secret_s": "s", **member_view, **expected}


def test_patch_create_only_property_is_stored_and_stays_hidden(api: Client) -> None:
    image = _admin_image(api)
    resp = api.patch(f"/v2/images/{image['id']}",
                     [{"op": "add", "path": "/spl_create_only", "value": "c"}], as_=SPL)
    assert resp.status_int == 200, resp.text
    assert "spl_create_only" not in resp.json
    assert _show(api, image["id"], ADMIN) == {"spl_create_only": "c"}


def test_uploads_and_tags_keep_unreadable_properties(api: Client) -> None:
    image = _admin_image(api, secret_s="s", disk_format="raw", container_format="bare")
    assert api.put(f"/v2/images/{image['id']}/tags/t1", as_=MEMBER).status_int == 204
    uploaded = api.upload(image["id"], b"0123456789", as_=MEMBER)
    assert uploaded.status_int == 204, uploaded.text
    shown = api.get(f"/v2/images/{image['id']}", as_=ADMIN).json
    assert (shown["status"], shown["tags"], shown["secret_s"]) == ("active", ["t1"], "s")


# -- policies format -----------------------------------------------------------------------

@pytest.fixture
def papi(policies_app: Callable[..., Any]) -> Client:
    return Client(policies_app, MEMBER)


def test_policies_format_create(papi: Client) -> None:
    _reserved(papi.post("/v2/images", {"name": "b", "x_billing_code": "1"}, as_=MEMBER,
                        headers={"Accept": "application/json"}), "x_billing_code")
    resp = _create(papi, BILLING, x_billing_code="42", x_audit_trail="t")
    assert resp.status_int == 201, resp.text
    # read: '@' for billing, the auditor_only rule for audit
    assert _extra(resp.json) == {"x_billing_code": "42"}
    assert _show(papi, resp.json["id"], AUDITOR) == {"x_billing_code": "42", "x_audit_trail": "t"}
    assert _show(papi, resp.json["id"], MEMBER) == {"x_billing_code": "42"}


def test_policies_format_patch(papi: Client) -> None:
    image = _create(papi, BILLING, x_billing_code="42", x_audit_trail="t").json
    path = f"/v2/images/{image['id']}"
    denied = papi.patch(path, [{"op": "replace", "path": "/x_billing_code", "value": "1"}],
                        as_=MEMBER)
    _reserved(denied, "x_billing_code")
    ok = papi.patch(path, [{"op": "replace", "path": "/x_billing_code", "value": "1"}],
                    as_=BILLING)
    assert ok.status_int == 200 and ok.json["x_billing_code"] == "1"
    _reserved(papi.patch(path, [{"op": "remove", "path": "/x_billing_code"}], as_=ADMIN),
              "x_billing_code")  # delete = !
    # update = (empty): nobody, not even the auditor who reads it
    _reserved(papi.patch(path, [{"op": "replace", "path": "/x_audit_trail", "value": "u"}],
                         as_=AUDITOR), "x_audit_trail")
    # billing cannot read x_audit_trail: for it, the property does not exist
    missing = papi.patch(path, [{"op": "remove", "path": "/x_audit_trail"}], as_=BILLING)
    assert missing.status_int == 409, missing.text
    assert _show(papi, image["id"], AUDITOR) == {"x_billing_code": "1", "x_audit_trail": "t"}


# -- configuration errors --------------------------------------------------------------------

@pytest.mark.parametrize(
    ("file_text", "rule_format", "message"),
    [
        (None, "roles", "not found"),
        ("[x_[]\ncreate = @\nread = @\nupdate = @\ndelete = @\n", "roles",
         "[x_[] is not a valid regular expression"),
        ("[x_a]\ncreate = @\nread = @\nupdate = @\n", "roles", "[x_a] has no 'delete' rule"),
        ("[x_a]\ncreate = @,!\nread = @\nupdate = @\ndelete = @\n", "roles",
         "'@' and '!' cannot be combined"),
        ("[x_a]\ncreate = a,b\nread = @\nupdate = @\ndelete = @\n", "policies",
         "one policy per operation"),
        ("[x_a]\ncreate = @\n", "acls", "property_protection_rule_format must be one of"),
        ("create = @\n", "roles", "is not a valid INI file"),
    ],
)
def test_bad_configuration_stops_the_application_and_the_server(
    tmp_path: Path, file_text: str | None, rule_format: str, message: str
) -> None:
    rules = tmp_path / "protections.conf"
    if file_text is not None:
        rules.write_text(file_text)
    conf_file = _write_conf(tmp_path, f"property_protection_file = {rules}\n"
                                      f"property_protection_rule_format = {rule_format}\n")
    with pytest.raises(config.PropertyProtectionError) as exc:
        _app(conf_file)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        # a loopback port already in use: were the check missing, binding fails at once
        result = subprocess.run(
            [str(SCRIPT), "--config-file", str(conf_file), "serve", "--bind-host", "127.0.0.1",
             "--bind-port", str(taken.getsockname()[1])],
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("glance-domain: error: Configuration error: ")
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # stopped before touching the database


def test_unreadable_file_is_a_configuration_error(tmp_path: Path) -> None:
    rules = tmp_path / "protections.conf"
    rules.mkdir()  # a directory: exists, cannot be read as a file
    conf_file = _write_conf(tmp_path, f"property_protection_file = {rules}\n")
    with pytest.raises(config.PropertyProtectionError, match="cannot be read"):
        _app(conf_file)


# -- review fixes ----------------------------------------------------------------------------

def test_a_hidden_property_cannot_be_overwritten_by_a_create(api: Client) -> None:
    """SPL may create spl_create_only but not read it: the admin's value is not replaced."""
    image = _admin_image(api, spl_create_only="admin-value")
    resp = api.patch(f"/v2/images/{image['id']}",
                     [{"op": "add", "path": "/spl_create_only", "value": "mine"}], as_=SPL)
    _reserved(resp, "spl_create_only")
    assert _show(api, image["id"], ADMIN) == {"spl_create_only": "admin-value"}


def test_a_caller_who_may_not_modify_the_image_learns_no_property_rule(api: Client) -> None:
    """modify_image is refused first, whatever the property (Glance's order)."""
    image = _admin_image(api, visibility="public")
    other = identity("p2", "member,reader", "other-user")
    answers = {api.patch(f"/v2/images/{image['id']}",
                         [{"op": "add", "path": f"/{name}", "value": "v"}], as_=other).text
               for name in ("x_owner_a", "secret_b", "x_none_permitted_c")}
    assert len(answers) == 1, answers
    assert "reserved" not in answers.pop()


def test_the_lazy_wsgi_entry_point_logs_a_bad_file_once_and_answers_500(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from glance_domain_adapters.wsgi import wsgi

    conf_file = _write_conf(tmp_path, f"property_protection_file = {tmp_path / 'nope'}\n")
    monkeypatch.setenv(wsgi.CONFIG_ENV, str(conf_file))
    # the entry point sets up oslo.log, which replaces the root logger's handlers (caplog's
    # among them): keep the process's logging as pytest set it
    monkeypatch.setattr("glance_domain_adapters.logs.setup", lambda conf: None)
    lazy = wsgi._LazyApplication()
    statuses = []
    with caplog.at_level(logging.ERROR, logger=wsgi.__name__):
        for _ in range(2):
            body = b"".join(lazy({"REQUEST_METHOD": "GET", "PATH_INFO": "/v2/images"},
                                 lambda status, headers: statuses.append(status)))
            assert b"nope" not in body and b"Traceback" not in body
    assert statuses == ["500 Internal Server Error"] * 2
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "not found" in errors[0], errors
    with pytest.raises(config.PropertyProtectionError):
        wsgi.create_app([str(conf_file)])


def test_an_undefined_policy_name_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "protections.conf").write_text(
        "[^x_b]\ncreate = biling_creator\nread = @\nupdate = @\ndelete = @\n")
    (tmp_path / "policy.yaml").write_text(POLICY_YAML)
    conf_file = _write_conf(
        tmp_path, f"property_protection_file = {tmp_path / 'protections.conf'}\n"
        "property_protection_rule_format = policies\n"
        f"[oslo_policy]\npolicy_file = {tmp_path / 'policy.yaml'}\n")
    with caplog.at_level(logging.WARNING):
        _app(conf_file)
    warned = [r.getMessage() for r in caplog.records if "biling_creator" in r.getMessage()]
    assert len(warned) == 1 and "not defined" in warned[0], warned
