"""Loopback ports for servers that tests start, held so no one else is handed them.

Picking a free port by binding to port 0 and closing the socket leaves a gap in which
another process (a parallel test worker, another server) may be given the same port. Here
the picking socket stays bound, with SO_REUSEPORT and never listening, for the rest of the
test run: the kernel gives the port to no other bind, while a server told to use it binds
it too if it also sets SO_REUSEPORT (gunicorn: --reuse-port). Only listening sockets
receive connections.
"""

import socket

REUSE_PORT_ARG = "--reuse-port"
_held: list[socket.socket] = []  # closed when the test process ends


def held_port() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    _held.append(sock)
    return int(sock.getsockname()[1])
