"""The bench harness runs end to end in its smoke mode, so `make bench` never rots.

It asserts that every figure is produced and sane, not how fast anything is: timings are
the bench's job (`make bench`), never a test's.
"""

from __future__ import annotations

import json

from perf.bench import run
from perf.report import Report

EXPECTED = (
    "feed.req_per_s",
    "feed.p99",
    "feed.cpu_per_req.all",
    "feed.upstream_calls_per_req",
    "ceiling.feed.req_per_s",
    "feed.ceiling_ratio",
    "ceiling.leaf_executor_ratio",
    "post_page.upstream_calls_per_req",
    "search.req_per_s",
    "create_post.req_per_s",
    "postAdded.2_subscribers.p99",
    "events.outbox_to_consumer.20_per_s.p99",
    "rss.idle.all",
    "ceiling.feed.cpu_per_req.ceiling",
    "feed.50_clients.p99_over_p50",
)


async def test_smoke_run_reports_every_figure() -> None:
    report: Report = await run(smoke=True, backend="dev")
    figures = {name: value for name, value, _ in report.figures}
    assert set(EXPECTED) <= set(figures), set(EXPECTED) - set(figures)
    assert figures["feed.req_per_s"] > 0 and figures["ceiling.feed.req_per_s"] > 0
    # A feed page costs a bounded number of batched upstream calls, not one per field.
    assert 1 <= figures["feed.upstream_calls_per_req"] < 40
    assert figures["postAdded.2_subscribers.missed"] == 0
    lines = report.machine_lines()
    assert len(lines) == len(report.figures)
    assert json.loads(lines[0].removeprefix("BENCH "))["name"] == report.figures[0][0]
