"""Our server against Glance 33's recorded answers: no new difference may appear.

The recording (``glance33-recording.json``) holds the normalised answers of a real Glance 33.0.0
to the whole script of tools/conformance.py, so this runs without Glance installed. Steps that
are known to differ still are listed in ``conformance_known_differences.txt``; any other
differing step is a regression and fails the test.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType

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


def _known() -> set[str]:
    keys = set()
    for line in KNOWN.read_text(encoding="utf-8").splitlines():
        key = line.split("#", 1)[0].strip()
        if key:
            keys.add(key)
    return keys


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
    differing = {entry["step"]: entry for entry in json.loads(out.read_text())}
    known = _known()
    unexpected = sorted(set(differing) - known - TIMING_DEPENDENT)
    details = "\n".join(
        f"{key}: glance={differing[key]['glance_status']} ours={differing[key]['ours_status']} "
        f"{differing[key]['diffs'][:3]}" for key in unexpected
    )
    assert not unexpected, f"new differences from Glance 33:\n{details}\n\n{report[-4000:]}"
    fixed = sorted(known - set(differing))
    if fixed:
        warnings.warn(f"now conforming, delete from {KNOWN.name}: {fixed}", stacklevel=1)
