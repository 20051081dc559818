"""The figures the issue asks for: pages (p50/p95 ms), export (s, MB) and weight (bytes)."""

import gzip
import re
import time
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode, urljoin

from django.utils import timezone

from bench.client import Client, Page, time_page
from bench.data import Dataset
from bench.server import Processes, cpu_seconds, peak_rss_mb, reset_peak_rss
from orderdesk.orders.models import Order

HTMX = {"HX-Request": "true"}
PICKER_QUERIES = ["Lopez", "Carter", "Smith", "Johnson", "Maria Lo", "James"]
EXPORT_ROWS = 100_000
ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')
CSS_URL = re.compile(r"url\(\s*['\"]?(?!data:)([^'\")]+)['\"]?\s*\)")


def pages(data: Dataset) -> list[Page]:
    searches = [urlencode({"q": name}) for name in data.search_names]
    # A filter that changes nothing but is new each time: the per-state counts are
    # cached per filter for a few seconds, and this is what the first visitor waits for.
    cold = [f"/orders/?date_to={date(2100, 1, 1) + timedelta(days=n)}" for n in range(1000)]
    details = [f"/orders/{ref}/" for ref in data.detail_references]
    return [
        Page("floor", "GET / signed in: the redirect to Orders, no template (the floor)",
             ["/"], status=302),
        Page("badge", "the nav's Needs attention count (every support/admin page pays it)",
             ["/orders/attention/badge/"], headers=HTMX),
        Page("history", "Orders page, default", ["/orders/"], contains="OD-"),
        Page("history_state", "Orders page, filtered by state=failed",
             ["/orders/?state=failed"], contains='id="order-results"'),
        Page("history_cold", "Orders page, counts not cached (a new filter each time)",
             cold, contains="OD-"),
        Page("history_search", "Orders page, searched by a patient's name (a new one each time)",
             [f"/orders/?{query}" for query in searches], contains="OD-"),
        Page("detail", "order detail, 5 attempts", details, contains="OD-"),
        Page("detail_requests", "its Impilo requests panel (htmx)",
             [path + "requests/" for path in details], headers=HTMX, contains="Impilo requests"),
        Page("attention", "Needs attention queue", ["/orders/attention/"], contains="OD-"),
        Page("audit", "Audit log, default", ["/audit/"], contains="order_"),
        Page("audit_filtered", "Audit log, outcome=ambiguous", ["/audit/?outcome=ambiguous"],
             contains="order_"),
        Page("admin", "stock Django admin changelist of orders", ["/admin/orders/order/"],
             contains="OD-"),
        Page("admin_search", "stock admin, searched by the same patients' names",
             [f"/admin/orders/order/?{query}" for query in searches], contains="OD-"),
        Page("picker", "patient search through orderdesk against the sandbox (htmx)",
             ["/orders/new/patients/"], headers=HTMX, contains="list-group-item",
             forms=[{"patient_query": q} for q in PICKER_QUERIES]),
    ]  # fmt: skip


def measure_pages(
    client: Client, server: Processes, data: Dataset, warmup: int, count: int
) -> dict[str, Any]:
    results = {}
    pids = server.web_workers()
    for page in pages(data):
        found = time_page(client, page, warmup=warmup, requests_=count, server_pids=pids)
        results[page.key] = found
        print(f"  {page.key:<16} p50 {found['p50']:>8} ms   p95 {found['p95']:>8} ms   "
              f"server CPU {found['server_cpu_ms']:>6} ms", flush=True)  # fmt: skip
    return results


def export_query(orders: int) -> str:
    """The newest ~100,000 orders by whole days (as a person filters), or all if fewer."""
    if orders <= EXPORT_ROWS:
        return ""
    nth = (
        Order.objects.order_by("-created_at", "-id")
        .values_list("created_at", flat=True)[EXPORT_ROWS - 1 : EXPORT_ROWS]
        .get()
    )
    first_day = timezone.localtime(nth).date() + timedelta(days=1)
    return urlencode({"date_from": first_day.isoformat()})


def measure_export(client: Client, server: Processes, orders: int, runs: int) -> dict[str, Any]:
    """Seconds to download the CSV, and the serving worker's peak RSS while it did."""
    path = "/orders/export.csv"
    query = export_query(orders)
    if query:
        path += "?" + query
    pids = server.web_workers()
    seconds, peaks, rows, size, fresh = [], [], 0, 0, True
    cpu_before = cpu_seconds(pids)
    for _ in range(runs):
        fresh = all(reset_peak_rss(pid) for pid in pids) and fresh
        started = time.perf_counter()
        response = client.get(path, stream=True)
        size = rows = 0
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            rows += chunk.count(b"\n")
        seconds.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise SystemExit(f"bench: export answered {response.status_code}")
        peaks.append(max(peak_rss_mb(pid) for pid in pids))
    print(f"  {'export':<16} {rows - 1:,} rows in {min(seconds):.2f} s, "
          f"peak {max(peaks):.0f} MB", flush=True)  # fmt: skip
    return {
        "seconds_p50": round(sorted(seconds)[len(seconds) // 2], 2),
        "seconds_max": round(max(seconds), 2),
        "peak_rss_mb": round(max(peaks), 1),
        "peak_is_per_run": fresh,
        "server_cpu_s": round((cpu_seconds(pids) - cpu_before) / runs, 2),
        "rows": rows - 1,
        "bytes": size,
        "query": query,
    }


def measure_weight(client: Client) -> dict[str, Any]:
    """Bytes on the wire (bodies as sent, compressed) for a first visit to New order."""
    accept = {"Accept-Encoding": "gzip, br"}
    html = client.get("/orders/new/", headers=accept, stream=True)
    html_bytes = html.raw.read(decode_content=False)
    text = _decompress(html_bytes, html.headers.get("Content-Encoding", "")).decode()
    assets: dict[str, dict[str, Any]] = {}
    queue = sorted(set(ASSET.findall(text)))
    while queue:
        path = queue.pop(0)
        if path in assets:
            continue
        response = client.get(path, headers=accept, stream=True)
        raw = response.raw.read(decode_content=False)
        if response.status_code != 200:
            raise SystemExit(f"bench: {path} answered {response.status_code}")
        assets[path] = {"bytes": len(raw), "encoding": response.headers.get("Content-Encoding", "")}
        if path.endswith(".css"):
            body = _decompress(raw, assets[path]["encoding"]).decode(errors="replace")
            queue += [urljoin(path, url) for url in CSS_URL.findall(body)]
    total = len(html_bytes) + sum(asset["bytes"] for asset in assets.values())
    print(f"  {'weight':<16} {total:,} bytes ({len(assets)} assets)", flush=True)
    return {
        "total": total,
        "html": len(html_bytes),
        "html_encoding": html.headers.get("Content-Encoding", ""),
        "assets": assets,
    }


def _decompress(raw: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding:
        raise SystemExit(f"bench: cannot read a {encoding!r} body to find its assets")
    return raw
