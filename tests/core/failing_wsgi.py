"""A WSGI app that fails before answering, as a crash outside Django's own error handling
would: gunicorn then logs "Error handling request <method> <uri>" with a traceback."""

from collections.abc import Callable, Iterator


def application(environ: dict, start_response: Callable) -> Iterator[bytes]:
    raise RuntimeError("the database connection went away")
