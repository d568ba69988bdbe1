"""The suite's own guard: a run whose tests leave a process behind fails, and the process is
killed (tests/conftest.py). Checked by running pytest on a test that leaks one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

# An odd duration marks the leaked process, so that no other "sleep" on the machine is taken
# for it (a shell's `sleep 300` once was).
MARK = "300.4173"
LEAKY = f"""
import subprocess

def test_leaves_a_process_behind() -> None:
    subprocess.Popen(["sleep", "{MARK}"])
"""
HOOKS = "from tests.conftest import pytest_configure, pytest_sessionfinish  # noqa: F401\n"


def test_a_run_that_leaks_a_process_fails_and_kills_it(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(HOOKS)
    (tmp_path / "test_leaky.py").write_text(LEAKY)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "outlived the tests" in proc.stdout and f"sleep {MARK}" in proc.stdout
    alive = subprocess.run(["pgrep", "-f", f"sleep {MARK}"], capture_output=True, text=True)
    assert alive.stdout.strip() == ""


def test_a_server_that_does_not_come_up_in_time_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server.start() gives up after START_TIMEOUT_S and leaves no server behind."""
    from tests import helpers

    monkeypatch.setattr(helpers, "START_TIMEOUT_S", 0.05)  # far less than a start takes
    srv = helpers.Server(tmp_path)
    with pytest.raises(RuntimeError, match="did not start"):
        srv.start()
    assert srv.proc is not None and srv.proc.poll() is not None  # it was stopped
