"""One process at a time in a run directory: an advisory lock the kernel drops when its holder dies.

``flock`` on ``RUN_DIR/run.lock`` is released by the operating system when the holding
process exits by any means, SIGKILL included, so a crash never leaves a stale lock; the
file itself stays and names the last holder (pid, host, command, start time) for the
message a second process gets. Within one process the lock is shared (counted), so
``Investigation.open`` on a directory this process already holds works. The shared result
store is not locked here: SQLite's WAL mode lets many processes use it at once.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path

LOCK_FILE = "run.lock"

# resolved run directory -> [open file, holders in this process]
_HELD: dict[Path, list] = {}


class RunDirLocked(RuntimeError):
    """Another process holds this run directory."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info.get("pid"):
        return "another process"
    since = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.get("since", 0)))
    return (f"process {info['pid']} on {info.get('host', '?')} ({info.get('command', '?')}, since {since})")


def acquire(run_dir: str | Path) -> Path:
    """Take ``run_dir``'s lock for this process or raise :class:`RunDirLocked` naming the holder."""
    key = Path(run_dir).resolve()
    if key in _HELD:
        _HELD[key][1] += 1
        return key
    try:
        import fcntl
    except ImportError:  # no flock (Windows): one process at a time is then the user's to keep
        _HELD[key] = [None, 1]
        return key
    path = key / LOCK_FILE
    fh = open(path, "a+")
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise RunDirLocked(f"{run_dir} is in use by {_holder(path)}; wait for it to finish or stop it, "
                           f"then `tierchem resume {run_dir}`") from None
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
                         "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:3]) if sys.argv else "python"}))
    fh.flush()
    _HELD[key] = [fh, 1]
    return key


def release(key: Path | None) -> None:
    """Give back one hold on the lock taken by :func:`acquire` (the last one unlocks)."""
    held = _HELD.get(key) if key is not None else None
    if held is None:
        return
    held[1] -= 1
    if held[1] <= 0:
        del _HELD[key]
        if held[0] is not None:
            held[0].close()  # closing the file drops the flock
