"""Child processes die with their parent: the render pool's workers ask Linux to SIGKILL
them when the process that started them ends, even by ``kill -9``, which no cleanup in
the parent can catch. And a render's memory cap, for work done in them."""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys
from collections.abc import Iterator

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


@contextlib.contextmanager
def memory_cap(extra: int) -> Iterator[None]:
    """Lets this process's address space grow by ``extra`` bytes at most, for the block
    (Linux; a no-op where the limit cannot be read or set, and in threads of the server,
    whose address space it must never cap)."""
    if not in_child():
        yield
        return
    try:
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = used + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def in_child() -> bool:
    """True in a pool process, which multiprocessing started."""
    import multiprocessing

    return multiprocessing.parent_process() is not None
