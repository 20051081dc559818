"""orderdesk's settings in demo mode, as `make run` starts them: DEBUG now defaults to off
(production), so the suite says DEBUG=true before the settings are read.

Subprocesses that inherit this environment get demo mode too; those that build their own
environment say DEBUG themselves.
"""

import os

os.environ.setdefault("DEBUG", "true")

from orderdesk.settings import *  # noqa: F403
