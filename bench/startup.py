"""Benchmark: how long `mediagate --help` takes, and how long `mediagate serve` takes to answer.

Each is run ``--runs`` times in fresh processes; the median and the worst are printed.
"Answers" means the first ``GET /healthz`` that returns 200, counted from the moment the
process is spawned: on a new data directory (a new SQLite database, made from the schema
file), and again on one already made (a restart, the usual case).

Goals (issue 10): ``--help`` < 0.5 s, ``serve`` answers < 2 s.

    .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

MEDIAGATE = str(Path(sys.executable).with_name("mediagate"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_help() -> float:
    t0 = time.perf_counter()
    subprocess.run([MEDIAGATE, "--help"], check=True, capture_output=True)
    return time.perf_counter() - t0


def time_serve(data: str) -> float:
    """Seconds from spawning ``mediagate serve`` on ``data`` to its first 200 on /healthz."""
    port = free_port()
    env = {**os.environ, "MEDIAGATE_DATA_DIR": data, "MEDIAGATE_PORT": str(port)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [MEDIAGATE, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"mediagate serve exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait(10)


def time_new() -> float:
    with tempfile.TemporaryDirectory() as data:
        return time_serve(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as made:
        time_serve(made)  # made once; each restart below starts on it again
        cases = (
            ("--help", time_help, 0.5),
            ("serve, new", time_new, 2.0),
            ("serve, restart", lambda: time_serve(made), 2.0),
        )
        for name, measure, goal in cases:
            times = [measure() for _ in range(args.runs)]
            median, worst = statistics.median(times), max(times)
            mark = "ok" if median < goal else "MISSED"
            print(
                f"{name:14} median {median:5.2f} s, worst {worst:5.2f} s  (goal < {goal} s: {mark})"
            )


if __name__ == "__main__":
    main()
