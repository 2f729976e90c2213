"""`worker`: this process as a node of the distributed mode (SYNC_DATABASE_URL) that works jobs only — any
account's syncs, the run plan's ticks and the notifications — until Ctrl-C or SIGTERM, which let the runs it is
working finish first."""

from __future__ import annotations

import argparse
import threading

from sync.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, err, fail, lang_of, speaker
from sync.cli.session import deployment
from sync.core.words import Msg


def worker(args: argparse.Namespace) -> int:
    from sync.jobs import deliver

    t = speaker(lang_of(args))
    if not args.settings.database_url:
        fail(t, Msg("cli.worker.no_database"))
        return EXIT_USAGE  # a setting missing, as every settings problem ends
    with deployment(args) as opened:
        queue = opened.queue()
        queue.create()
        concurrency = args.concurrency or opened.settings.max_concurrent_runs
        stop, ended = threading.Event(), threading.Event()

        def work() -> None:
            try:
                queue.work(opened, concurrency=concurrency, stop=stop,
                           also=lambda: deliver.every_few_seconds(opened), every=deliver.INTERVAL_SECONDS)
            finally:
                ended.set()

        threading.Thread(target=work, name="queue-worker").start()
        err(t("cli.worker.started", node=opened.node, concurrency=concurrency, database=opened.catalog.path))
        try:
            while not ended.wait(0.5):
                pass
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the runs in hand finish, no new one starts
            err(t("cli.worker.stopping"))
            stop.set()
            # Waited for on an event, not Thread.join: a join cut short by the signal takes the thread for ended
            # (CPython 3.11), and the deployment would close under the runs still going.
            while True:
                try:
                    if ended.wait(0.5):
                        break
                except KeyboardInterrupt:  # a second Ctrl-C: still the runs finish first
                    continue
            return EXIT_INTERRUPTED
    return EXIT_FAILED  # the worker ended by itself: procrastinate said why in the log
