"""The settings the bench server runs with: orderdesk's own, as given by the environment
(production values: DEBUG off, compressed static files), plus the bench URL conf.

Nothing else differs, so every page goes through the same middleware stack as in production.
"""

from orderdesk.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
