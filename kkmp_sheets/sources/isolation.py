"""Reading untrusted workbooks in a worker process that may die without taking the cycle along.

A hostile or broken workbook can make the spreadsheet reader allocate hundreds of gigabytes, and
a failed allocation in native code aborts the process that made it. So the reading
(`reader.read_tabs`) runs in a child process whose address space is capped (`memory_mb`) and
which the parent kills when it takes longer than `seconds`. When the worker dies, that one
workbook is reported as unreadable (`workbook-read-stopped`) and a fresh worker is started for
the next; every other cooperative is read as usual.

The worker is started with `spawn`: it imports only the reader, not the service's memory, so
its limit measures the workbook alone and it is safe to start from a threaded `serve`. It lives
for the whole cycle (one start, about a fifth of a second) and is replaced only when it dies.
Each `ReaderProcess` is one worker; a `ReaderPool` of them reads several workbooks at once
(`[performance] workers`), and one dying never fails the reads in flight in the others. A worker
runs a `task` on each workbook: by default `reader.read_tabs`; the cycle's task also parses,
validates and measures the tabs inside the worker, so that the same limits cover that work too
and only small results travel back.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from kkmp_sheets.sources.base import ReadFailure
from kkmp_sheets.sources.limits import ReadLimits, grouped
from kkmp_sheets.sources.reader import Task, read_tabs, serve

log = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")
# Signals that end a worker whose capped address space refused an allocation in native code.
_ALLOCATION_DEATHS = {6, 7, 11}  # SIGABRT, SIGBUS, SIGSEGV


class ReaderProcess:
    """One worker process running `task` on workbooks under `limits`, replaced whenever it
    dies. `task` must be a module-level function (it is sent to the worker by name)."""

    def __init__(self, limits: ReadLimits, task: Task = read_tabs):
        self.limits = limits
        self.task = task
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self.restarts = 0  # workers replaced after dying or running out of time
        self._finalizer: weakref.finalize | None = None

    def read(self, path: Path) -> dict[str, list[list[Any]]]:
        """The workbook's tabs, or `ReadFailure` saying why not (the worker is replaced if it
        died). For a worker whose task is `read_tabs`."""
        return dict(self.run(path))

    def run(self, path: Path, *extra: Any) -> Any:
        """What the task returned for the workbook at `path` (`extra`: its further arguments,
        picklable), or `ReadFailure` saying why not (the worker is replaced if it died)."""
        request = (str(path), self.limits, extra)
        conn = self._connection()
        try:
            conn.send(request)
        except (OSError, ConnectionError):
            # The worker ended between two reads (nothing of this workbook was read yet): this
            # workbook is not to blame, so it gets a fresh worker.
            self._stop()
            conn = self._connection()
            conn.send(request)
        started = time.monotonic()
        try:
            if not conn.poll(self.limits.seconds):
                self._stop()
                raise ReadFailure(
                    "workbook-read-stopped",
                    detail=f"pembacaan lebih dari {grouped(round(self.limits.seconds))} detik",
                )
            status, payload = conn.recv()
        except (EOFError, OSError, ConnectionError):
            detail = self._death(time.monotonic() - started)
            raise ReadFailure("workbook-read-stopped", detail=detail) from None
        if status == "ok":
            return payload
        if status == "too-large":
            raise ReadFailure("workbook-too-large", detail=str(payload))
        if status == "memory":
            raise ReadFailure("workbook-read-stopped", detail=self._memory_words())
        raise ReadFailure("workbook-unreadable", detail=str(payload))

    def close(self) -> None:
        """End the worker (it also ends by itself when this process goes)."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()  # the worker's recv sees the end and returns
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None

    # --- the worker's life -----------------------------------------------------------------
    def _connection(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        if self._process is not None:
            self._stop()
        parent, child = _CONTEXT.Pipe(duplex=True)
        process = _CONTEXT.Process(
            target=serve,
            args=(child, self.limits.memory_mb, self.task),
            name="kkmp-reader",
            daemon=True,
        )
        process.start()
        child.close()
        self._process, self._conn = process, parent
        self._finalizer = weakref.finalize(self, _kill, process, parent)
        return parent

    def _stop(self) -> None:
        """Kill the worker now (it overran its time, or died): the next read starts another."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if conn is not None or process is not None:
            self.restarts += 1
        if process is not None:
            _kill(process, conn)

    def _death(self, seconds: float) -> str:
        process = self._process
        code = None
        if process is not None:
            process.join(timeout=5)
            code = process.exitcode
        self._stop()
        log.warning(
            "workbook reader died (exit %s) after %.1f s; a new one is started", code, seconds
        )
        if code is not None and code < 0 and -code in _ALLOCATION_DEATHS:
            return self._memory_words()
        return "pembaca berkas berhenti mendadak"

    def _memory_words(self) -> str:
        return f"perlu memori lebih dari {grouped(self.limits.memory_mb)} MB"


class ReaderPool:
    """`workers` reader processes running `task` side by side, each under `limits`.

    `submit` hands a workbook to the next free worker and returns at once; the answer (or its
    `ReadFailure`) comes in the `Future`. A thread per worker waits on its pipe (the waiting
    needs no CPU and no lock), so the caller keeps its own thread for the work that must stay
    in one place, such as the history store. The processes start at their first workbook and
    end with `close`."""

    def __init__(self, limits: ReadLimits, workers: int, task: Task = read_tabs):
        self.workers = max(1, workers)
        self._idle: queue.SimpleQueue[ReaderProcess] = queue.SimpleQueue()
        self._all = [ReaderProcess(limits, task) for _ in range(self.workers)]
        for process in self._all:
            self._idle.put(process)
        self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="kkmp-reader")

    def submit(self, path: Path, *extra: Any) -> Future[Any]:
        return self._threads.submit(self._run, path, extra)

    def _run(self, path: Path, extra: tuple[Any, ...]) -> Any:
        process = self._idle.get()
        try:
            return process.run(path, *extra)
        finally:
            self._idle.put(process)

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self._all)

    def close(self) -> None:
        """Cancel what has not started, wait for what has, end every worker."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        for process in self._all:
            process.close()

    def __enter__(self) -> ReaderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kill(process: BaseProcess, conn: Connection | None) -> None:
    if conn is not None:
        conn.close()
    if process.is_alive():
        process.kill()
    process.join(timeout=5)
