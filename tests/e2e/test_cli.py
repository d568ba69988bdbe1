"""The CLI as a person meets it: clear errors instead of tracebacks or hangs, a data dir that
must exist, outputs checked before anything is paid for, Ctrl-C that says how to resume,
`tasks` and `models`, and help without type tags or raw markup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import Server, run_cli

COMMANDS = [
    [],
    ["serve"],
    ["worker"],
    ["init"],
    ["generate"],
    ["models"],
    ["keys", "create"],
    ["keys", "list"],
    ["accounts", "set"],
    ["accounts", "topup"],
    ["tasks", "list"],
    ["tasks", "get"],
    ["tasks", "download"],
    ["webhooks", "list"],
]


def client_env(server: Server, key: str) -> dict[str, str]:
    return {"MEDIAGATE_BASE_URL": server.url, "MEDIAGATE_API_KEY": key}


def task_count(server: Server) -> int:
    return int(server.rows("SELECT count(*) FROM tasks")[0][0])


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_help_has_no_type_tags_or_raw_markup(command: list[str]) -> None:
    proc = run_cli(*command, "--help", data_dir=None)
    assert proc.returncode == 0, proc.stderr
    for junk in ("<bool>", "<str>", "<int>", "<path>", "``", "[/"):  # "[/": raw rich markup
        assert junk not in proc.stdout, (command, junk, proc.stdout)


def test_a_bad_port_is_an_error_not_a_hang(tmp_path: Path) -> None:
    started = time.monotonic()
    flag = run_cli("serve", "--port", "99999", data_dir=tmp_path)
    env = run_cli("serve", data_dir=tmp_path, env={"MEDIAGATE_PORT": "99999"})
    assert time.monotonic() - started < 30
    for proc in (flag, env):
        assert proc.returncode == 2 and "65535" in proc.stderr
        assert "Traceback" not in proc.stderr and "serving" not in proc.stderr


def test_bad_amounts_and_limits_are_messages(tmp_path: Path) -> None:
    for args in (
        ["accounts", "set", "acct_default", "--daily-limit", "abc"],
        ["accounts", "create", "x", "--monthly-limit", "1e5000"],
        ["accounts", "topup", "acct_default", "-5"],
        ["accounts", "topup", "acct_default", "[/x]"],  # text, not a rich markup tag
    ):
        proc = run_cli(*args, data_dir=tmp_path)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, (args, proc.stderr)
        assert "limit" in proc.stderr or "amount" in proc.stderr, proc.stderr
    assert run_cli("accounts", "create", "[/bold]", data_dir=tmp_path).returncode == 0
    listed = run_cli("accounts", "list", data_dir=tmp_path)
    assert listed.returncode == 0 and "[/bold]" in listed.stdout, listed.stderr


def test_a_mistyped_data_dir_is_refused_and_init_makes_one(tmp_path: Path) -> None:
    typo = tmp_path / "dtaa"
    proc = run_cli("keys", "create", "--test", data_dir=typo)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
    assert "mediagate init" in proc.stderr and not typo.exists()
    made = run_cli("init", data_dir=typo)
    assert made.returncode == 0 and (typo / "mediagate.db").exists()
    assert run_cli("keys", "create", "--test", data_dir=typo).stdout.startswith("mg_test_")


def test_the_startup_hint_names_the_data_dir(tmp_path: Path) -> None:
    server = Server(tmp_path).start()
    server.stop()
    log = server.log.read_text()
    assert f"--data-dir {tmp_path.resolve()}" in log and "/healthz" in log


def test_generate_checks_the_output_before_submitting(
    server: Server, key: str, tmp_path: Path
) -> None:
    env = client_env(server, key)
    before = task_count(server)
    for output, extra in (
        (tmp_path / "missing" / "dir" / "x.webp", []),
        (tmp_path / "file.webp", ["-n", "2"]),
        (tmp_path / "nowhere", []),
    ):
        proc = run_cli(
            "generate", "-m", "seedream-3", "-p", "x", "-o", str(output), *extra,
            data_dir=None, env=env,
        )  # fmt: skip
        assert proc.returncode == 2 and "-o" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert task_count(server) == before  # nothing was submitted, nothing paid for


def test_tasks_list_get_download_and_models(server: Server, key: str, tmp_path: Path) -> None:
    env = client_env(server, key)
    made = run_cli(
        "generate", "-m", "seedream-3", "-p", "a fox", "-o", str(tmp_path), data_dir=None, env=env
    )
    assert made.returncode == 0, made.stderr
    task_id = made.stderr.split("submitted task ")[1].split()[0]
    listed = run_cli("tasks", "list", data_dir=None, env=env)
    assert listed.returncode == 0 and task_id in listed.stdout and "done" in listed.stdout
    got = run_cli("tasks", "get", task_id, data_dir=None, env=env)
    assert got.stdout.startswith(f"{task_id} done 100%") and "/v1/files/" in got.stdout
    again = tmp_path / "again"
    again.mkdir()
    down = run_cli("tasks", "download", task_id, "-o", str(again), data_dir=None, env=env)
    assert down.returncode == 0 and (again / f"{task_id}.webp").stat().st_size > 1000
    missing = run_cli("tasks", "get", "nope", data_dir=None, env=env)
    assert missing.returncode == 1 and "not found" in missing.stderr
    models = run_cli("models", data_dir=None, env=env)
    assert models.returncode == 0 and "seedream-3" in models.stdout


def test_ctrl_c_while_waiting_says_how_to_resume(tmp_path: Path) -> None:
    server = Server(tmp_path / "d", latency=4).start()
    try:
        key = server.key()
        env = {**os.environ, **client_env(server, key)}
        proc = subprocess.Popen(
            [sys.executable, "-m", "mediagate", "generate", "-m", "seedream-3", "-p", "slow",
             "-o", str(tmp_path)],
            env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stderr is not None
        seen: list[str] = []
        reader = threading.Thread(target=lambda: seen.extend(proc.stderr or ()), daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while not any("submitted task" in line for line in seen):  # it is waiting now
            assert time.monotonic() < deadline and proc.poll() is None, seen
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        reader.join(10)
        stderr = "".join(seen)
        assert proc.returncode == 130, stderr
        assert "Traceback" not in stderr and "Resume: mediagate tasks get" in stderr
        resume = stderr.split("Resume: ")[1].split()
        done = run_cli(*resume[1:], data_dir=None, env=client_env(server, key))
        assert done.returncode == 0, done.stderr
        assert any(p.suffix == ".webp" for p in tmp_path.iterdir())
    finally:
        server.stop()
