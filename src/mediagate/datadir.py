"""The data dir holds the database, the instance secret and the media: made private (0700,
its files 0600) when mediagate makes it, and a warning at start when an existing one is
looser, since anyone who reads it reads every tenant's tasks and results."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
DB_FILES = ("", "-wal", "-shm")  # SQLite gives its WAL and shared memory the db file's mode


def prepare(data_dir: Path, db_file: Path | None) -> list[str]:
    """Make ``data_dir`` (0700) and the SQLite file ``db_file`` (0600) if they do not exist
    yet; the warnings, one a line, for what exists and is readable by others."""
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=DIR_MODE)
        data_dir.chmod(DIR_MODE)  # mkdir's mode is masked by the umask
    if db_file is not None and not db_file.exists():
        db_file.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        os.close(os.open(db_file, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    return looser(data_dir, db_file)


def looser(data_dir: Path, db_file: Path | None) -> list[str]:
    """What group or others may read or enter among the data dir and the database files."""
    found = []
    paths = [data_dir, data_dir / "secret.key"]
    if db_file is not None:
        paths += [db_file.with_name(db_file.name + suffix) for suffix in DB_FILES]
    for path in paths:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & 0o077:
            want = DIR_MODE if path.is_dir() else FILE_MODE
            found.append(
                f"{path} is {mode:04o}, readable by others: chmod {want:04o} {path} "
                "(it holds every tenant's tasks, keys' secrets and results)"
            )
    return found
