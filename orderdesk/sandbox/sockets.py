"""A real TCP reset from inside a WSGI view, for the `reset` fault kinds.

SO_LINGER (on, 0 s) makes the kernel answer the close of a socket with RST instead of FIN.
The server still holds the socket object (and, under wsgiref, file objects made from it), so
`close()` would not release the descriptor. Instead the descriptor is pointed at a fresh,
unconnected socket with dup2: the connection loses its last reference and is reset at once,
while the server's later writes fail with EPIPE, which servers treat as a client hang-up.
"""

import os
import socket
import struct
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse


class ConnectionResetBySandbox(ConnectionResetError):
    """Raised when no socket can be found (e.g. Django's test client): the nearest thing."""


def reset_connection(request: HttpRequest) -> HttpResponseBase:
    sock = find_socket(request.META)  # META is the WSGI environ
    if sock is None:
        raise ConnectionResetBySandbox("Sandbox fault: connection reset (no socket to reset)")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with socket.socket(sock.family, socket.SOCK_STREAM) as placeholder:
        os.dup2(placeholder.fileno(), sock.fileno())
    # Never reaches the client. No Content-Length, so Django's dev server will not reuse the
    # connection; status 200 so Django does not log an "Internal Server Error" for it.
    return StreamingHttpResponse(iter([b""]), status=200)


def find_socket(environ: Mapping[str, Any]) -> socket.socket | None:
    """gunicorn hands the socket over; under wsgiref it sits beneath wsgi.input's wrappers."""
    candidate = environ.get("gunicorn.socket")
    if isinstance(candidate, socket.socket):
        return candidate
    stream: object = environ.get("wsgi.input")
    # LimitedStream._read (bound method) -> BufferedReader.raw -> SocketIO._sock -> socket.
    for _ in range(8):
        if isinstance(stream, socket.socket):
            return stream
        stream = _inner(stream)
        if stream is None:
            return None
    return None


def _inner(stream: object) -> object | None:
    for name in ("_sock", "raw", "stream", "_stream"):
        inner: object = getattr(stream, name, None)
        if inner is not None:
            return inner
    reader = getattr(stream, "_read", None)
    return getattr(reader, "__self__", None)
