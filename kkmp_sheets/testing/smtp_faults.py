"""A small SMTP server on 127.0.0.1 that misbehaves on request, for tests and benchmarks.

aiosmtpd is the well-behaved server of the tests; this one speaks just enough SMTP over a raw
socket to fail in the ways real servers do, at exact points of the dialogue: refuse the
connection, drop it during the dialogue, in the middle of the message or after its final dot,
refuse one recipient, or accept and never answer (a tarpit). `stall_*` faults stop answering at
one point and set `reached`, so a test can kill the client there. `heal()` makes it behave.

It keeps every complete message it received (after the final dot), even one it then dropped
without answering: that is the copy a real server may have delivered.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, BinaryIO


class Fault(StrEnum):
    NONE = "none"
    REFUSE = "refuse"  # nothing listens: the connection is refused
    DROP_IN_DIALOGUE = "drop_in_dialogue"  # closes after MAIL FROM
    DROP_MID_DATA = "drop_mid_data"  # reads part of the message, then resets the connection
    DROP_AFTER_DOT = "drop_after_dot"  # keeps the whole message, closes without answering
    REJECT_ONE = "reject_one"  # only the refusal of `rejected` (550), which holds in every mode
    TARPIT = "tarpit"  # accepts the connection and never says a word
    STALL_RCPT = "stall_rcpt"  # stops answering at the first RCPT TO
    STALL_DATA = "stall_data"  # after 354 reads a little of the message, then stops reading
    STALL_AFTER_DOT = "stall_after_dot"  # keeps the whole message, never answers


@dataclass(frozen=True)
class Kept:
    rcpt_tos: tuple[str, ...]
    data: bytes


class FaultyServer:
    """One fault at a time, for every connection, until `heal()`. Use as a context manager."""

    def __init__(self, fault: Fault = Fault.NONE, *, rejected: str = "") -> None:
        self.fault = Fault(fault)
        self.rejected = rejected.lower()
        self.kept: list[Kept] = []
        self.sessions = 0
        self.reached = threading.Event()  # a stall_* point (or the tarpit) was reached
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self.port = _free_port()

    def __enter__(self) -> FaultyServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> FaultyServer:
        if self.fault is not Fault.REFUSE:
            self._listen()
        return self

    def heal(self) -> None:
        """Behave from the next connection on (a refusing server starts listening)."""
        self.fault = Fault.NONE
        if self._listener is None:
            self._listen()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for thread in self._threads:
            thread.join(timeout=5)

    def copies(self) -> dict[str, int]:
        """How many complete messages each recipient has on this server."""
        counts: dict[str, int] = {}
        with self._lock:
            for kept in self.kept:
                for rcpt in kept.rcpt_tos:
                    counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A small receive buffer (inherited by accepted sockets) so that a server that stops
        # reading makes a large message block the sender, as a real stalled server would.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self._spawn(self._accept_loop, listener)

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.sessions += 1
            self._spawn(self._session, conn, self.fault)

    def _stall(self) -> None:
        self.reached.set()
        self._stop.wait()

    def _session(self, conn: socket.socket, fault: Fault) -> None:
        with contextlib.closing(conn):
            conn.settimeout(30)
            try:
                self._dialogue(conn, conn.makefile("rb"), fault)
            except OSError:
                return

    def _dialogue(self, conn: socket.socket, reader: BinaryIO, fault: Fault) -> None:
        if fault is Fault.TARPIT:
            return self._stall()
        conn.sendall(b"220 faulty.test ESMTP\r\n")
        rcpts: list[str] = []
        while not self._stop.is_set():
            line = reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                conn.sendall(b"250 faulty.test\r\n")
            elif verb == b"MAIL":
                if fault is Fault.DROP_IN_DIALOGUE:
                    return
                rcpts = []
                conn.sendall(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                if fault is Fault.STALL_RCPT:
                    return self._stall()
                address = line.decode().partition(":")[2].strip().strip("<>").lower()
                if address == self.rejected:  # for good, faulty or healed
                    conn.sendall(b"550 5.1.1 no such mailbox\r\n")
                else:
                    rcpts.append(address)
                    conn.sendall(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                conn.sendall(b"354 end with <CRLF>.<CRLF>\r\n")
                if fault is Fault.DROP_MID_DATA:
                    conn.recv(1024)  # part of the message, and gone
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if fault is Fault.STALL_DATA:
                    conn.recv(1024)
                    return self._stall()
                self._keep(rcpts, _read_message(reader))
                if fault is Fault.DROP_AFTER_DOT:
                    return
                if fault is Fault.STALL_AFTER_DOT:
                    return self._stall()
                conn.sendall(b"250 2.0.0 queued\r\n")
            elif verb in (b"RSET", b"NOOP"):
                conn.sendall(b"250 OK\r\n")
            elif verb == b"QUIT":
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"502 5.5.2 not implemented\r\n")

    def _keep(self, rcpts: list[str], data: bytes) -> None:
        with self._lock:
            self.kept.append(Kept(tuple(rcpts), data))


def _read_message(reader: BinaryIO) -> bytes:
    lines: list[bytes] = []
    while True:
        line = reader.readline()
        if not line:
            raise ConnectionError("the client left in the middle of the message")
        if line == b".\r\n":
            return b"".join(lines)
        lines.append(line[1:] if line.startswith(b"..") else line)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
