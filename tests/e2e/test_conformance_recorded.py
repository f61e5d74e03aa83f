"""Our server against Glance 33's recorded answers: no new difference may appear.

The recording (``glance33-recording.json``) holds the normalised answers of a real Glance 33.0.0
to the whole script of tools/conformance.py, so this runs without Glance installed. The
differences that are known and accepted are listed one by one in
``conformance_known_differences.txt`` (step, category, what differs); any other difference is a
regression and fails the test, also a new one in a step that already differs.

Run as a script with a ``--json`` output of tools/conformance.py, it prints the differences in
the list's format.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
TOOL = HERE.parents[1] / "tools" / "conformance.py"
RECORDING = HERE / "glance33-recording.json"
KNOWN = HERE / "conformance_known_differences.txt"
#: Steps whose outcome depends on timing (see the step's comment in tools/conformance.py).
TIMING_DEPENDENT = {"images.list.sort_subsecond_created_at"}


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("conformance_tool_recorded", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def difference_key(step: str, diff: dict[str, Any]) -> str:
    """One difference as the list names it: ``step | category | what`` (a status difference
    with both statuses, so 500 -> 400 becoming 500 -> 404 is a new difference)."""
    what = diff["what"]
    if diff["category"] == "status":
        what = f"status {diff['glance']} -> {diff['ours']}"
    return f"{step} | {diff['category']} | {what}"


def differences(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each difference of tools/conformance.py's ``--json`` output, by its key."""
    return {difference_key(e["step"], d): e for e in entries for d in e["diffs"]}


def _known() -> set[str]:
    keys = set()
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        key = line.split("  #", 1)[0].strip()
        if key and not key.startswith("#"):
            keys.add(key)
    return keys


def test_the_known_list_names_differences() -> None:
    for key in _known():
        step, category, what = (part.strip() for part in key.split("|"))
        assert step and category in _tool().CATEGORIES and what, key


def test_recording_covers_the_whole_script() -> None:
    recorded = set(json.loads(RECORDING.read_text(encoding="utf-8"))["steps"])
    scripted = {s.key for s in _tool().scenario() if s.compare}
    assert scripted - recorded == set(), "re-record: python3 tools/conformance.py --glance URL " \
        "--record tests/e2e/glance33-recording.json"


def test_no_difference_beyond_the_known_ones(
    server_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "diffs.json"
    _tool().main(["--glance-recording", str(RECORDING), "--ours", server_url,
                  "--json", str(out)])
    report = capsys.readouterr().out
    found = differences(json.loads(out.read_text()))
    known = _known()
    unexpected = sorted(k for k in set(found) - known
                        if k.split(" | ", 1)[0] not in TIMING_DEPENDENT)
    details = "\n".join(
        f"{key}: glance={found[key]['glance_status']} ours={found[key]['ours_status']}"
        for key in unexpected
    )
    assert not unexpected, f"new differences from Glance 33:\n{details}\n\n{report[-4000:]}"
    fixed = sorted(known - set(found))
    if fixed:
        warnings.warn(f"now conforming, delete from {KNOWN.name}: {fixed}", stacklevel=1)


if __name__ == "__main__":  # the list's lines for a --json output of tools/conformance.py
    for key in sorted(differences(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))):
        print(key)
