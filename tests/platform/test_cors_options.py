"""CORS and OPTIONS as Glance's pipeline answers them: the application built from a
configuration (``bootstrap.build_app``), with and without ``[cors] allowed_origin``."""

from __future__ import annotations

from pathlib import Path

import webob

from glance_domain_adapters import bootstrap

MEMBER = {"X-Roles": "member,reader", "X-Project-Id": "p1", "X-User-Id": "u1"}


def _app(tmp_path: Path, extra: str = "") -> object:
    config = tmp_path / "glance-api.conf"
    config.write_text(f"[DEFAULT]\ndata_dir = {tmp_path / 'data'}\n{extra}")
    return bootstrap.build_app(bootstrap.load_config([], [str(config)]))


def _call(app: object, method: str, path: str, **headers: str) -> webob.Response:
    req = webob.Request.blank(path, method=method, headers={**MEMBER, **headers})
    return req.get_response(app)


def test_options_is_an_empty_200_everywhere(tmp_path: Path) -> None:
    app = _app(tmp_path)
    for path in ("/v2/images", "/v2/bogus", "/", "/v2/info/usage", "/v2/tasks"):
        resp = _call(app, "OPTIONS", path)
        assert resp.status_int == 200, path
        assert resp.body == b"" and "Content-Type" not in resp.headers
        assert "x-openstack-request-id" not in resp.headers
    # other methods are untouched
    assert _call(app, "PUT", "/v2/images").status_int == 405


def test_configured_origins_get_cors_headers(tmp_path: Path) -> None:
    app = _app(tmp_path, "[cors]\nallowed_origin = https://dashboard.example\n")
    pre = _call(app, "OPTIONS", "/v2/images", Origin="https://dashboard.example",
                **{"Access-Control-Request-Method": "POST",
                   "Access-Control-Request-Headers": "X-Auth-Token"})
    assert pre.status_int == 200
    assert pre.headers["Access-Control-Allow-Origin"] == "https://dashboard.example"
    assert pre.headers["Access-Control-Allow-Methods"] == "POST"
    assert pre.headers["Access-Control-Allow-Headers"] == "X-Auth-Token"
    listed = _call(app, "GET", "/v2/images", Origin="https://dashboard.example")
    assert listed.status_int == 200
    assert listed.headers["Access-Control-Allow-Origin"] == "https://dashboard.example"
    assert "X-OpenStack-Request-ID" in listed.headers["Access-Control-Expose-Headers"]
    stranger = _call(app, "GET", "/v2/images", Origin="https://elsewhere.example")
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_healthcheck_get_and_head(tmp_path: Path) -> None:
    app = _app(tmp_path)
    got = _call(app, "GET", "/healthcheck")
    assert (got.status_int, got.body) == (200, b"OK")
    head = _call(app, "HEAD", "/healthcheck")
    assert head.status_int == 204 and "Content-Type" not in head.headers


def test_health_checks_carry_no_cors_headers(tmp_path: Path) -> None:
    app = _app(tmp_path, "[cors]\nallowed_origin = https://dashboard.example\n")
    for method in ("GET", "HEAD"):
        resp = _call(app, method, "/healthcheck", Origin="https://dashboard.example")
        assert resp.status_int in (200, 204)
        assert "Access-Control-Allow-Origin" not in resp.headers


def test_health_checks_need_no_token_with_keystone(tmp_path: Path) -> None:
    """With ``flavor = keystone`` the API refuses a request without a token (auth_token
    answers 401 on its own, no Keystone needed for that), the health check does not."""
    app = _app(tmp_path, "[paste_deploy]\nflavor = keystone\n"
                         "[keystone_authtoken]\nwww_authenticate_uri = http://127.0.0.1:1/\n"
                         "delay_auth_decision = false\n")
    assert _call(app, "GET", "/v2/images").status_int == 401
    assert _call(app, "GET", "/healthcheck").status_int == 200
    assert _call(app, "HEAD", "/healthcheck").status_int == 204
