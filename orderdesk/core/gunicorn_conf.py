"""gunicorn's settings, the same for every way orderdesk is served: the Dockerfile, `make run`
(manage.py serve), the bench and `make verify` all start it with
`--config python:orderdesk.core.gunicorn_conf`. Flags on a command line still win.
"""

# Two processes for a 2-core host. Threads, because a page that asks Impilo (patient search)
# holds its thread for as long as Impilo takes to answer (up to IMPILO_READ_TIMEOUT): with
# Impilo at 5 s, 2 x 4 threads were all waiting and every other page queued behind them.
# 16 per process keep pages answering while Impilo is slow.
# Each thread keeps its own database connection (CONN_MAX_AGE): 2 x 16 = 32 of PostgreSQL's
# default max_connections of 100, leaving room for the task workers (WORKER_THREADS + 1
# each: 4 task loops and the periodic jobs), verify's separate sandbox server (2 x 8) and
# maintenance sessions: 32 + 2 workers x 5 + 16 = 58.
workers = 2
threads = 16
timeout = 60

# The path, never the query string or the referrer: patient search is
# /orders/new/patients/?q=<name>, so either would put patient names in the log.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(M)sms'
# The error log names a failed request's URI, query string included: cut it there too.
logger_class = "orderdesk.core.gunicorn_logging.Logger"

# gunicorn 25+ opens a control socket (worker counts, reload, shutdown) at one path per
# user, ~/.gunicorn/gunicorn.ctl: every orderdesk on the host (make run, the bench, verify,
# the tests) would fight over it, and nothing here uses it.
control_socket_disable = True
