"""Asking for cycles now (the operator's `fleet enqueue`, a catch-up, a test), besides beat.

A request sent from here is stamped in Redis as seen when it is sent, not when a worker first
takes it: so every request made before a cycle starts is satisfied by that cycle, however the
workers happen to pick the messages up (`runner.py`, step 3).
"""

from __future__ import annotations

import uuid
from typing import Any

from kkmp_sheets.fleet.runner import first_seen
from kkmp_sheets.fleet.schedule import TASK


def enqueue(
    client: Any, sender: Any, kode: str, *, as_of: str | None = None, mail: bool | None = None
) -> str:
    """Queue a cycle of instance `kode` through the Celery app `sender`; its task id."""
    task_id = str(uuid.uuid4())
    first_seen(client, task_id)
    sender.send_task(TASK, args=[kode, as_of, mail], task_id=task_id)
    return task_id
