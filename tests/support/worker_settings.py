"""orderdesk's settings plus a fast heartbeat job (tests/support/heartbeat.py), for tests that
run `manage.py run_worker` as a subprocess and watch its periodic thread."""

from orderdesk.settings import *  # noqa: F403
from orderdesk.settings import PERIODIC_JOBS

PERIODIC_JOBS = [*PERIODIC_JOBS, ("tests.support.heartbeat.beat", 0.2)]
