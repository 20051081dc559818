"""Container health probe: exits 0 when /healthz on the loopback answers 200.

Usage: `python -m orderdesk.core.healthcheck [port]`. Standard library only and no Django
start-up, so Docker can run it every 30 seconds cheaply. It sends a Host header taken from
ALLOWED_HOSTS, because Django answers any other host with 400.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    for host in (entry.strip() for entry in allowed_hosts.split(",")):
        if host and host != "*":
            # ".example.org" allows example.org and its subdomains.
            return host.lstrip(".")
    return "localhost"


def main(argv: list[str]) -> int:
    port = argv[1] if len(argv) > 1 else "8000"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": probe_host(os.environ.get("ALLOWED_HOSTS", ""))},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 -- fixed loopback http URL
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"healthcheck failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
