"""tools/conformance.py: its comparison logic, and a run of the whole script against our
server compared with itself (which must show no difference)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "conformance.py"


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_tool", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _result(tool: ModuleType, status: int, body: object, **headers: str) -> object:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"content-type": "application/json", "x-openstack-request-id": "req-1", **headers}
    return tool.Result(status, hdrs, raw)


def _compare(tool: ModuleType, step: object, g: object, o: object, gres: object,
             ores: object) -> object:
    return tool.compare(step, tool.observe(step, gres, tool.Normaliser(g)),
                        tool.observe(step, ores, tool.Normaliser(o)))


def test_observations_round_trip_through_json(tool: ModuleType) -> None:
    g, _ = _targets(tool)
    step = tool.Step("images.show", "x", "GET", "/v2/images/{img:img}", "A")
    obs = tool.observe(step, _result(tool, 200, {"id": g.images["img"]}), tool.Normaliser(g))
    again = tool.Observation.from_json(json.loads(json.dumps(obs.to_json())))
    assert again == obs and again.body == {"id": "<img:img>"}


def _targets(tool: ModuleType) -> tuple[object, object]:
    g = tool.Target("glance", "http://127.0.0.1:1")
    o = tool.Target("ours", "http://127.0.0.1:2")
    for t in (g, o):
        t.image_id("img")
        t.project("A")
    return g, o


def test_normalised_equal_bodies_compare_equal(tool: ModuleType) -> None:
    g, o = _targets(tool)
    step = tool.Step("images.show", "x", "GET", "/v2/images/{img:img}", "A")
    gb = {"id": g.images["img"], "owner": g.project("A"), "created_at": "2026-01-01T00:00:00Z",
          "tags": ["b", "a"], "self": f"/v2/images/{g.images['img']}"}
    ob = {"id": o.images["img"], "owner": o.project("A"), "created_at": "2027-02-02T10:11:12Z",
          "tags": ["a", "b"], "self": f"/v2/images/{o.images['img']}"}
    outcome = _compare(tool, step, g, o, _result(tool, 200, gb), _result(tool, 200, ob))
    assert outcome.diffs == []


def test_status_header_and_body_differences_are_reported(tool: ModuleType) -> None:
    g, o = _targets(tool)
    step = tool.Step("images.show", "x", "GET", "/v2/images/{img:img}", "A")
    outcome = _compare(
        tool, step, g, o,
        _result(tool, 200, {"a": 1, "b": "x"}, location="http://127.0.0.1:1/v2/x"),
        _result(tool, 200, {"a": "1", "c": None}, location="http://127.0.0.1:2/v2/y"),
    )
    found = {(d.category, d.what) for d in outcome.diffs}
    assert ("header", "location") in found
    assert ("body", "$.a (type)") in found
    assert ("body", "$.b") in found and ("body", "$.c") in found
    other = _compare(tool, step, g, o, _result(tool, 404, b""), _result(tool, 200, {}))
    assert ("status", "status") in {(d.category, d.what) for d in other.diffs}


def test_error_pages_compare_by_title_and_message(tool: ModuleType) -> None:
    html_page = (b"<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n"
                 b"  <h1>404 Not Found</h1>\n  No image found with ID x<br /><br />\n\n"
                 b" </body>\n</html>")
    plain = b"404 Not Found\n\nNo image found with ID x\n\n   "
    assert tool.parse_error_body(html_page) == tool.parse_error_body(plain) == {
        "title": "404 Not Found", "message": "No image found with ID x"}
    as_json = json.dumps({"message": "No image found with ID x<br /><br />\n\n\n",
                          "code": "404 Not Found", "title": "Not Found"}).encode()
    assert tool.parse_error_body(as_json)["message"] == "No image found with ID x"


@pytest.mark.e2e
def test_whole_script_against_our_server_shows_no_difference(
    tool: ModuleType, server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both sides are our server: any difference is non-determinism in the server or a bug in
    the checker's normalisation."""
    report = tmp_path / "report.md"
    code = tool.main(["--glance", server_url, "--ours", server_url, "--markdown", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "requests compared; 0 differ" in out
    assert "0 differ" in report.read_text()
