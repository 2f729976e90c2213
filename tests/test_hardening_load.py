"""Load with the rate limits on: every invoice booked once with its document, every payment registered once, and
not one 429 or 503 surfacing as a failure or a warning — all of them waited out.

Waiting happens on a virtual clock shared by the simulators and the clients (tests.bench.hardening_load), so half an
hour of rate-limited SnelStart traffic takes seconds. The simulators are made *stricter* than the limits the
clients pace themselves to (70 calls a minute instead of 100; a Gripp burst bucket of 3 instead of 20), so
throttled answers do come back and have to be waited out. The full 10,000 + 10,000 run is
`python -m tests.bench.hardening_load` (minutes; numbers in the hardening report), not part of the suite.
"""

from __future__ import annotations

from pathlib import Path

from tests.bench.hardening_load import load_run

INVOICES, PAYMENTS = 1_500, 400


def test_a_rate_limited_load_completes_with_every_throttle_waited_out(tmp_path: Path, record_property) -> None:
    report = load_run(INVOICES, PAYMENTS, tmp_path, snelstart_per_minute=70, gripp_burst=3)
    first, second = report.runs
    for run in report.runs:
        assert run.outcome == "ok", run.counts
        assert run.problems == [], "no throttled answer may surface as a warning or an error"
        assert run.counts.get("failed", 0) == run.counts.get("retry_later", 0) == 0
        assert run.counts.get("pdf_pending", 0) == run.counts.get("payments_pending", 0) == 0
    assert first.counts["booked"] == INVOICES and first.counts["pdf_attached"] == INVOICES
    assert second.counts["payments_registered"] == PAYMENTS and second.counts["booked"] == 0
    assert report.booked_once and report.documents_once and report.payments_once

    # The limits bit: SnelStart answered 429 and Gripp 503, and the runs waited instead of failing. The calls
    # SnelStart let through took at least the minutes its limit allows (virtual time: the point of the clock).
    assert first.snelstart_throttled + second.snelstart_throttled > 0
    assert first.gripp_throttled + second.gripp_throttled > 0
    admitted = first.snelstart_calls - first.snelstart_throttled
    assert first.virtual_seconds >= (admitted // 70 - 1) * 60

    # Memory is reported, not asserted (it depends on the machine): the hardening report has the 10k numbers.
    record_property("peak_rss_mb", max(run.peak_rss_mb for run in report.runs))
    record_property("wall_seconds", [run.wall_seconds for run in report.runs])
