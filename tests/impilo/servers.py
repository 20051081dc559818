"""Tiny misbehaving servers on loopback sockets, for the session's real-network tests.

Each accepts connections in a thread, reads one HTTP request, then does what it was told:
answer, answer late, or reset the connection. Only 127.0.0.1 is used.
"""

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Behaviour = Callable[[socket.socket, threading.Event], None]


class RawServer:
    def __init__(self, behave: Behaviour) -> None:
        self.behave = behave
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(8)
        self._listener.settimeout(0.05)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def __enter__(self) -> "RawServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self.requests.append(read_request(conn))
                self.behave(conn, self._stop)


def read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def reply(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(response_bytes(status, body, headers))

    return behave


def reply_after(seconds: float, status: int = 200, body: bytes = b"{}") -> Behaviour:
    def behave(conn: socket.socket, stop: threading.Event) -> None:
        if stop.wait(seconds):
            return
        conn.sendall(response_bytes(status, body, {}))

    return behave


def reset() -> Behaviour:
    """Close with SO_LINGER 0: the kernel sends RST, the client sees a reset."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return behave


def response_bytes(status: int, body: bytes, headers: dict[str, str] | None) -> bytes:
    lines = [f"HTTP/1.1 {status} Whatever", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def closed_port() -> int:
    """A port nothing listens on: bound once to pick it, then closed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    sock.close()
    return port


@contextmanager
def full_backlog() -> Iterator[int]:
    """A listener that never accepts, its queue already full: new SYNs are dropped, so a
    connect hangs until its timeout."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    address = listener.getsockname()
    fillers = []
    for _ in range(4):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        filler.connect_ex(address)
        fillers.append(filler)
    try:
        yield int(address[1])
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


class KeepAliveServer(RawServer):
    """Answers every request on a connection with `body`, keeping it open (HTTP/1.1), and
    notes which connection each request came on: connection numbers count from 1."""

    def __init__(self, body: bytes, headers: dict[str, str] | None = None) -> None:
        super().__init__(lambda conn, stop: None)
        self.body, self.headers = body, headers or {}
        self.connection_of: list[int] = []

    def __enter__(self) -> "KeepAliveServer":
        super().__enter__()
        return self

    def _serve(self) -> None:
        connections = 0
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            connections += 1
            with conn:
                conn.settimeout(0.05)  # between requests: look at the stop flag often
                while not self._stop.is_set():
                    try:
                        request = read_request(conn)
                    except TimeoutError:
                        continue
                    if not request:
                        break  # the client closed this connection
                    self.requests.append(request)
                    self.connection_of.append(connections)
                    head = [f"HTTP/1.1 200 OK\r\nContent-Length: {len(self.body)}"]
                    head += [f"{name}: {value}" for name, value in self.headers.items()]
                    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + self.body)
