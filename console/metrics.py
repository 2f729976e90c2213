"""`GET /metrics`: the deployment's figures for the team's own monitoring, in Prometheus' text format.

A custom collector reads the catalog at scrape time (`sync.store.metrics`): nothing is counted in this process's
memory, so what a scrape says is what the store says, whichever process ran the syncs. Labels are the account key
and the identity id only (plus the outcome, state or kind counted): never a name, a key or an address.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from sync.store.catalog import Catalog
from sync.store.deliveries import DeliveryState
from sync.store.metrics import FINAL_DELIVERIES, Count

PREFIX = "gripp_snelstart"


class DeploymentCollector(Collector):
    """Every figure, read from the catalog when Prometheus asks."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def collect(self) -> Iterator[Metric]:
        rows = self._catalog.metrics()
        updated = GaugeMetricFamily(
            f"{PREFIX}_account_figures_updated_timestamp_seconds",
            "When the account's figures were last written (after a run, check or link change), unix seconds.",
            labels=["account"])
        last = GaugeMetricFamily(
            f"{PREFIX}_last_success_timestamp_seconds",
            "The start of the identity's last run (not a dry run) that ended ok or with warnings, unix seconds.",
            labels=["account", "identity"])
        runs = CounterMetricFamily(
            f"{PREFIX}_runs", "Runs (not dry runs) of the identity that ended, by outcome.",
            labels=["account", "identity", "outcome"])
        waiting = GaugeMetricFamily(
            f"{PREFIX}_invoices_waiting",
            "Invoices waiting for a person: blocked (a mapping or customer to fix), refused (by SnelStart), "
            "conflict (SnelStart has another booking with its number).",
            labels=["account", "identity", "state"])
        checks = GaugeMetricFamily(
            f"{PREFIX}_checks_failing",
            "Setup checks of the account that fail (an unmapped VAT rate, a missing ledger, a start date in the "
            "future), as its health row last counted them.", labels=["account"])
        for account in rows.accounts():
            if account.updated_at is not None:
                updated.add_metric([account.account_key], account.updated_at.timestamp())
            if account.failing_checks is not None:
                checks.add_metric([account.account_key], account.failing_checks)
            for figures in account.identities:
                labels = [account.account_key, str(figures.identity_id)]
                if figures.last_success_at is not None:
                    last.add_metric(labels, figures.last_success_at.timestamp())
                for outcome, n in figures.runs.items():
                    runs.add_metric([*labels, outcome], n)
                for state, n in figures.waiting.items():
                    waiting.add_metric([*labels, state], n)
        problems = GaugeMetricFamily(
            f"{PREFIX}_open_problems",
            "Problems announced and not over yet (the notices ledger), by kind; identity empty for the account.",
            labels=["account", "identity", "kind"])
        for count in rows.open_problems():
            problems.add_metric([count.account_key, _identity(count.identity_id), count.what], count.n)
        delivered, due = delivery_figures(rows.deliveries())
        yield from (updated, last, runs, waiting, checks, problems, delivered, due)


def delivery_figures(counts: list[Count]) -> tuple[CounterMetricFamily, GaugeMetricFamily]:
    """Deliveries split so the counter only grows: final outcomes (a counter), and those still due (a gauge). Every
    account with a delivery has every outcome and its due ones, 0 included, so a series does not appear or vanish
    with its first or last delivery (Prometheus' increase() misses a series' first value)."""
    delivered = CounterMetricFamily(
        f"{PREFIX}_notification_deliveries",
        "Notification deliveries that ended, by outcome (sent, gave_up, dropped); account empty for the support "
        "team's targets.", labels=["account", "outcome"])
    due = GaugeMetricFamily(
        f"{PREFIX}_notification_deliveries_waiting",
        "Notification deliveries not made yet (waiting, or to be tried again); account empty for the support "
        "team's targets.", labels=["account"])
    found = {(count.account_key, count.what): count.n for count in counts}
    for account in sorted({account for account, _ in found}):
        for outcome in FINAL_DELIVERIES:
            delivered.add_metric([account, str(outcome)], found.get((account, outcome), 0))
        due.add_metric([account], found.get((account, DeliveryState.DUE), 0))
    return delivered, due


def _identity(identity_id: int | None) -> str:
    return "" if identity_id is None else str(identity_id)


def scrape(catalog: Catalog) -> bytes:
    """The text Prometheus reads, made now from the catalog (a registry per scrape: no state between scrapes)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(catalog))
    return generate_latest(registry)
