"""The run's inbox: the scientist's requests, durable the moment they are written.

Any process (a notebook, ``tierchem`` in another terminal) appends a request to
``RUN_DIR/inbox.jsonl``; the graph's steer node takes it into the priority queue.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from .state import Request

INBOX = "inbox.jsonl"


def write_inbox(run_dir: Path, text: str, priority: int = 5, status: str = "pending", response: str = "") -> Request:
    """Append a request to the run's inbox (durable at once; the steer node queues it). A question answered
    at once is written ``done`` with its ``response``: the record keeps it, nothing answers it again."""
    path = Path(run_dir) / INBOX
    seq = sum(1 for _ in path.open()) + 1 if path.exists() else 1
    req = Request(id=uuid.uuid4().hex[:10], seq=seq, text=text, priority=priority, status=status, response=response)
    with path.open("a") as fh:
        fh.write(json.dumps(req.model_dump(mode="json")) + "\n")
        fh.flush()
    return req


def read_inbox(run_dir: Path) -> list[Request]:
    path = Path(run_dir) / INBOX
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(Request.model_validate_json(line))
        except ValueError:
            continue  # a torn last line after a kill: the request was not acknowledged
    return out
