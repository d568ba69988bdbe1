"""Child processes die with their parent: the render pool's workers ask Linux to SIGKILL
them when the process that started them ends, even by ``kill -9``, which no cleanup in
the parent can catch."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """A pool initializer: SIGKILL this process when ``parent_pid`` ends (Linux only;
    elsewhere a no-op). Exits at once if the parent is already gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it died before the request was made
        os._exit(1)


RENDER_NICENESS = 10


def render_worker(parent_pid: int) -> None:
    """The render pool's initializer: dies with its parent, and runs at a lower CPU priority,
    so rendering (and the OCR it starts) yields to the process that answers requests: one
    key's batch of image tools cannot slow another key's polls and creates."""
    die_with_parent(parent_pid)
    with contextlib.suppress(OSError):
        os.nice(RENDER_NICENESS)
