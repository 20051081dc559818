"""gunicorn's error log without query strings.

gunicorn writes the request's URI into its error log when the app fails before
answering ("Error handling request GET /orders/new/patients/?q=…"), and pieces of the
request line when it cannot parse one. Query strings hold patient names, so every line
of that log, traceback included, has them cut before it is written. The access log never
prints them at all (gunicorn_conf.access_log_format).
"""

import logging
import re

from gunicorn import glogging

# From a "?" to the end of the URI: the " HTTP/" of a request line, a closing quote or the
# end of the line (a query in a malformed request line may hold spaces).
QUERY = re.compile(r"\?[^'\"\n]*?(?=\sHTTP/|['\"]|$)", re.MULTILINE)
CUT = "?…"
# A request line gunicorn could not parse: what it quotes may be any piece of the line
# (a name with a space in the query becomes the "HTTP version": 'Lopez HTTP/1.1').
UNPARSED = re.compile(r"^(.*Invalid request from ip=.*?)'[^\n]*'", re.MULTILINE)


def without_query(text: str) -> str:
    return QUERY.sub(CUT, UNPARSED.sub(r"\1'…'", text))


class QueryCuttingFormatter(logging.Formatter):
    """Formats as the formatter it wraps did, then cuts query strings from the result."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return without_query(self.inner.format(record))


class Logger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            if not isinstance(handler.formatter, QueryCuttingFormatter):
                handler.setFormatter(QueryCuttingFormatter(handler.formatter))
