"""Real processes of the distributed mode, for the tests that kill them and the benchmark's nodes scenario: a served
sandbox (`python -m sync sandbox serve`, a process of its own on its own data folder), nodes (`python -m sync worker`
processes, each with a data folder of its own) on one Postgres, and what is read back afterwards — the runs from the
accounts' checked-in files, the duplicates from the world the served sandbox saved when it stopped.

Who is who in the queue: procrastinate registers each worker in `procrastinate_workers` when it starts, so the
nodes are started one after the other and each is told its worker id (`Node.worker_id`); a job that is `doing`
names its worker (`procrastinate_jobs.worker_id`), hence its node.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg

from sync.core.config import load_settings
from sync.sandbox.seed_parts import SandboxSetup
from sync.sandbox.world import World
from sync.store.run_plan import SYNC_TASK, SyncJob
from tests.nodes import SECRET, Served, clean_env, start_serving

ROOT = Path(__file__).resolve().parents[1]
START_SECONDS = 60.0
NODE_STOP_SECONDS = 60.0


# ----------------------------------------------------------------------------------------- the served world


@dataclass(frozen=True)
class WorldAccount:
    """A Gripp customer of the served world that the tests register as an account: its own Gripp account (token)
    and its own administrations, with the links and mappings support would make."""

    key: str
    name: str
    token: str
    setup: SandboxSetup


def bulk_accounts(world: World, count: int, *, identities: int, invoices: int, first_identity: int = 101,
                  prefix: str = "bulk") -> list[WorldAccount]:
    """`count` plain Gripp customers added to `world` (`sync.sandbox.bulk`: every invoice bookable), each with
    `identities` identities of `invoices` sent invoices and administrations of their own."""
    from sync.sandbox.bulk import build_bulk_world

    made = []
    for n in range(count):
        key, token = f"{prefix}-{n:03d}", f"{prefix}-token-{n:03d}-0123456789abcdef"
        built, setup = build_bulk_world(identities * invoices, identities=identities, seed=1000 + n,
                                        first_identity=first_identity + n * identities, today=world.today)
        with world.lock:
            gripp = built.gripp
            gripp.api_tokens = [token]
            world.gripp_accounts[key] = gripp
            world.snelstart.administrations.update(built.snelstart.administrations)
            world.snelstart.keys.update(built.snelstart.keys)
        made.append(WorldAccount(key, f"Bulk {n:03d} B.V.", token, replace(setup, gripp_api_token=token)))
    return made


def serve(folder: Path, world: World | None = None, *, limits: bool = False) -> Served:
    """Serve `world` (written into `folder` first; default the demo serve seeds) on a free loopback port."""
    folder.mkdir(parents=True, exist_ok=True)
    if world is not None:
        world.save(folder / "sandbox-state.json")
    return start_serving(folder, limits=limits)


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system), 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every process of the `postgres` user (the throwaway clusters run as it; as root only)."""
    import pwd

    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return 0.0
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


# ------------------------------------------------------------------------------------------------- duplicates


@dataclass(frozen=True)
class Duplicates:
    bookings: int  # sales bookings beyond the first with the same invoice number, in one administration
    documents: int  # documents beyond the first on one booking
    payments: int  # the link's Gripp payments beyond the first with the same marker

    def __str__(self) -> str:
        return f"{self.bookings} / {self.documents} / {self.payments}"


def duplicates(world: World, administrations: Iterable[str] | None = None) -> Duplicates:
    from sync.jobs.payments import marker_of

    admins = world.snelstart.administrations
    chosen = [admins[a] for a in administrations] if administrations is not None else list(admins.values())
    bookings = documents = payments = 0
    for admin in chosen:
        numbers = Counter(b.factuurnummer for b in admin.bookings.values())
        bookings += sum(n - 1 for n in numbers.values())
        per_booking = Counter(d.parent_id for d in admin.documents.values())
        documents += sum(n - 1 for n in per_booking.values())
    for account in world.gripp_accounts.values():
        markers = Counter(m for p in account.payments.values()
                          if (m := marker_of({"extendedproperties": p.extendedproperties})) is not None)
        payments += sum(n - 1 for n in markers.values())
    return Duplicates(bookings, documents, payments)


def booked_once_with_one_pdf(world: World, administration: str, numbers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Of these invoice numbers, those not booked exactly once with exactly one document: number -> (bookings,
    documents)."""
    admin = world.snelstart.administrations[administration]
    found = {}
    for number in numbers:
        ids = [b.id for b in admin.bookings.values() if b.factuurnummer == number]
        docs = sum(1 for d in admin.documents.values() if d.parent_id in ids)
        if len(ids) != 1 or docs != 1:
            found[number] = (len(ids), docs)
    return found


# ---------------------------------------------------------------------------------------------------- nodes


@dataclass
class Node:
    """One `python -m sync worker` process."""

    name: str
    process: subprocess.Popen[bytes]
    folder: Path
    worker_id: int | None = None
    peak_mb: float = 0.0  # the highest VmHWM read (`watch_memory`)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def memory_mb(self) -> float:
        """Its peak resident memory so far (VmHWM), 0 once it is gone."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
        except OSError:
            pass
        return self.peak_mb

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def log(self) -> str:
        path = self.folder.parent / f"{self.name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Cluster:
    """Postgres, a served sandbox, and nodes in folders of their own below `folder`; the harness's own deployment
    (in this process, a data folder of its own too) registers accounts and defers jobs."""

    def __init__(self, folder: Path, database_url: str, served: Served) -> None:
        self.folder, self.database_url, self.served = folder, database_url, served
        self.nodes: list[Node] = []
        self._deployment: Any = None
        self._queue: Any = None
        self._seq = 0

    # -- settings -----------------------------------------------------------------------------------------------
    def environment(self, folder: Path) -> dict[str, str]:
        return {**self.served.settings, "SYNC_DB_PATH": str(folder / "sync.duckdb"),
                "SYNC_DATABASE_URL": self.database_url, "SYNC_SECRET_KEY": SECRET}

    def deployment(self) -> Any:
        """The harness's node in this process (it works no jobs)."""
        from sync.wiring import Deployment

        if self._deployment is None:
            self._deployment = Deployment(load_settings(self.environment(self.folder / "harness")))
        return self._deployment

    def queue(self) -> Any:
        if self._queue is None:
            self._queue = self.deployment().queue()
            self._queue.create()
        return self._queue

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.database_url, autocommit=True)

    # -- accounts -----------------------------------------------------------------------------------------------
    def register(self, account: WorldAccount) -> list[int]:
        """Add the account as support would (its Gripp key tried on the served Gripp, identities read), then its
        links and mappings; the linked identities."""
        from sync.jobs.accounts import add_account
        from sync.store import setup as setup_repo
        from sync.wiring import configure_setup

        deployment = self.deployment()
        add_account(deployment, account.key, account.name, account.token, actor="cli")
        with deployment.holding(account.key) as services:
            identities = {row["identity_id"]: row["name"] for row in setup_repo.identities(services.store)}
            configure_setup(services.store, deployment.vault, identities, account.setup)
            deployment.catalog.know_links(account.key, setup_repo.known_links(services.store))
            deployment.record_health(services)
            return [link.identity_id for link in setup_repo.links(services.store)]

    def register_demo(self) -> None:
        """The sandbox's demo accounts (`python -m sync sandbox register`, as a command)."""
        done = subprocess.run([sys.executable, "-m", "sync", "--lang", "en", "sandbox", "register", "--url",
                               self.served.url], cwd=ROOT, capture_output=True, text=True, check=False,
                              env=clean_env(**self.environment(self.folder / "harness")))
        if done.returncode != 0:
            raise RuntimeError(f"sandbox register failed: {done.stdout}{done.stderr}")

    def linked(self, key: str) -> list[int]:
        from sync.store import setup as setup_repo

        return [link.identity_id for link in setup_repo.links(self.deployment().services(key).store)]

    # -- nodes --------------------------------------------------------------------------------------------------
    def start_node(self, concurrency: int = 4, *, wait: bool = True) -> Node:
        """A worker process; with `wait`, returned once procrastinate has registered it (its worker id known)."""
        self._seq += 1
        name = f"node-{self._seq}"
        folder = self.folder / name
        folder.mkdir(parents=True)
        self.queue()  # its tables made
        with self.connect() as connection:
            before = {row[0] for row in connection.execute("SELECT id FROM procrastinate_workers")}
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "sync", "--lang", "en", "worker", "--concurrency", str(concurrency)], cwd=ROOT,
            env=clean_env(**self.environment(folder), PGAPPNAME=name), stdout=log, stderr=log)
        log.close()
        node = Node(name, process, folder)
        self.nodes.append(node)
        if wait:
            deadline = time.monotonic() + START_SECONDS
            while node.worker_id is None:
                if not node.alive():
                    raise RuntimeError(f"{name} ended: {node.log()[-3000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not register as a worker in {START_SECONDS:.0f} s")
                with self.connect() as connection:
                    new = sorted({row[0] for row in connection.execute("SELECT id FROM procrastinate_workers")}
                                 - before)
                if new:
                    node.worker_id = int(new[0])
                else:
                    time.sleep(0.05)
        return node

    def kill(self, node: Node, *, delete_folder: bool = True) -> None:
        """SIGKILL, as a machine that is gone: nothing of it finishes; with `delete_folder` its disk is gone too."""
        node.memory_mb()
        node.process.send_signal(signal.SIGKILL)
        node.process.wait()
        if delete_folder:
            shutil.rmtree(node.folder, ignore_errors=True)

    def stop(self, node: Node) -> int:
        """SIGTERM: the runs in hand finish first; its exit code."""
        node.memory_mb()
        if node.alive():
            node.process.send_signal(signal.SIGTERM)
            try:
                node.process.wait(NODE_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                node.process.kill()
        return node.process.wait()

    def node_of_worker(self, worker_id: int | None) -> Node | None:
        return next((node for node in self.nodes if node.worker_id == worker_id), None)

    # -- the queue ------------------------------------------------------------------------------------------------
    def defer(self, jobs: Iterable[SyncJob]) -> list[int]:
        """Queue the jobs (a manual trigger: one per identity may wait at a time); their job ids."""
        queue = self.queue()
        return [found for job in jobs if (found := queue.defer(job)) is not None]

    def counts(self) -> dict[str, int]:
        """Sync jobs by status."""
        with self.connect() as connection:
            return {str(status): int(n) for status, n in connection.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs WHERE task_name = %s GROUP BY status",
                [SYNC_TASK])}

    def doing(self) -> list[tuple[int, str, int, int | None]]:
        """The sync jobs running now: (job id, account, identity, worker id)."""
        with self.connect() as connection:
            return [(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in connection.execute(
                "SELECT id, args->>'account', (args->'identity_ids'->>0)::int, worker_id FROM procrastinate_jobs "
                "WHERE task_name = %s AND status = 'doing' ORDER BY id", [SYNC_TASK])]

    def drain(self, timeout: float, *, every: float = 0.1, watch: Iterable[Node] = ()) -> float:
        """Wait until no sync job waits or runs; the seconds it took. Reads the nodes' memory meanwhile."""
        watched = list(watch)
        started = time.monotonic()
        while True:
            for node in watched:
                node.memory_mb()
            found = self.counts()
            if not found.get("todo") and not found.get("doing"):
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"the queue did not drain in {timeout:.0f} s: {found}")
            time.sleep(every)

    def finished(self, job_ids: Iterable[int]) -> dict[int, str]:
        """The jobs' statuses."""
        with self.connect() as connection:
            return {int(r[0]): str(r[1]) for r in connection.execute(
                "SELECT id, status::text FROM procrastinate_jobs WHERE id = ANY(%s)", [list(job_ids)])}

    def events(self, job_ids: Iterable[int] | None = None) -> list[tuple[int, str, datetime]]:
        where, params = ("WHERE job_id = ANY(%s)", [list(job_ids)]) if job_ids is not None else ("", [])
        with self.connect() as connection:
            return [(int(r[0]), str(r[1]), r[2]) for r in connection.execute(
                f"SELECT job_id, type::text, at FROM procrastinate_events {where} ORDER BY id", params)]

    # -- what the accounts' files say ---------------------------------------------------------------------------
    @contextmanager
    def checked_in(self, key: str) -> Iterator[Any]:
        """The account's file as Postgres has it now (downloaded into a folder of its own), as a `Store`."""
        from sync.store.account_files import AccountFiles
        from sync.store.db import Store

        folder = Path(tempfile.mkdtemp(prefix=f"checked-in-{key}-", dir=self.folder))
        files = AccountFiles(self.database_url, "harness")
        try:
            path = folder / f"{key}.duckdb"
            if files.download(key, path) is None:
                raise LookupError(f"Postgres has no file of account {key}")
            store = Store(path)
            try:
                yield store
            finally:
                store.close()
        finally:
            files.close()
            shutil.rmtree(folder, ignore_errors=True)

    def kept(self, key: str) -> dict[str, set[tuple[Any, ...]]]:
        """What must never be lost of the account, as its checked-in file has it (`KEPT`)."""
        with self.checked_in(key) as store:
            return {name: {tuple(row.values()) for row in store.rows(query)} for name, query in KEPT.items()}

    def runs(self, key: str) -> list[dict[str, Any]]:
        with self.checked_in(key) as store:
            return store.rows("SELECT run_id, identity_id, trigger, outcome, started_at, finished_at FROM runs "
                              "ORDER BY started_at")

    def close(self) -> None:
        for node in self.nodes:
            if node.alive():
                node.process.kill()
                node.process.wait()
        if self._deployment is not None:
            self._deployment.close()
        if self.served.process.poll() is None:
            self.served.process.kill()
            self.served.process.wait()


# What a node that dies may not take with it: the account's links, mappings and people's decisions, its runs and
# events (each row as it was checked in; a run finished after still counts as kept by its id).
KEPT = {
    "links": "SELECT identity_id, administration_id, koppelsleutel_enc, start_date FROM links",
    "mappings": "SELECT 'vat', identity_id, gripp_vat_id, kind FROM vat_mappings UNION ALL "
                "SELECT 'ledger', identity_id, gripp_ledger_id, snelstart_number FROM ledger_mappings UNION ALL "
                "SELECT 'kostenplaats', identity_id, gripp_costheading_id, snelstart_number "
                "FROM kostenplaats_mappings UNION ALL "
                "SELECT 'customer', identity_id, company_id, relatie_id FROM customer_mappings",
    "decisions": "SELECT 'adopted', identity_id, invoice_id, adopted_by FROM bookings WHERE adopted_by IS NOT NULL "
                 "UNION ALL SELECT 'gone', identity_id, invoice_id, confirmed_by FROM invoices_gone "
                 "WHERE confirmed_by IS NOT NULL",
    "runs": "SELECT run_id FROM runs",
    "events": "SELECT event_id FROM events",
}


def lost(before: dict[str, set[tuple[Any, ...]]], after: dict[str, set[tuple[Any, ...]]]) -> dict[str, int]:
    """Per kind, the rows there before and gone after."""
    return {name: len(rows - after.get(name, set())) for name, rows in before.items()}


def overlapping(runs: list[dict[str, Any]]) -> int:
    """Pairs of runs (of one account) whose times overlap."""
    ordered = sorted(runs, key=lambda run: run["started_at"])
    found = 0
    for i, run in enumerate(ordered):
        for later in ordered[i + 1:]:
            if later["started_at"] >= (run["finished_at"] or later["started_at"]):
                break
            found += 1
    return found


def create_invoices(gripp_url: str, token: str, identity_id: int, count: int, *, on: date, vat_id: int,
                    ledger_id: int | None = None) -> list[str]:
    """`count` sent invoices of `identity_id` made on the served Gripp (its API address `gripp_url`) with
    `invoice.create`, one line each at `vat_id` (21 %), to the identity's Dutch companies in turn: real work for the
    next run. Their numbers."""
    from sync.gripp.client import GrippClient

    client = GrippClient(gripp_url, token)
    try:
        companies = [row for row in client.get_all("company", [])  # Dutch companies: 21 % is their VAT
                     if (row.get("identity") or {}).get("id") == identity_id and not row.get("vatshifted")
                     and row.get("visitingaddress_country") in ("NL", "", None)
                     and (row.get("relationtype") or {}).get("searchname") == "Bedrijf"]
        if not companies:
            raise LookupError(f"identity {identity_id} has no companies")
        made = []
        for n in range(count):
            line: dict[str, Any] = {"amount": 2, "sellingprice": 95 + n, "vat": vat_id,
                                    "description": "Adviesuren"}
            if ledger_id is not None:
                line["ledger"] = ledger_id
            made.append(client.create("invoice", {
                "company": companies[n % len(companies)]["id"], "identity": identity_id, "status": "SENT",
                "date": on, "subject": f"Werk {n + 1}", "invoicelines": [line]}))
        wanted = set(made)
        return [str(row["number"]) for row in client.get_all("invoice", []) if row["id"] in wanted]
    finally:
        client.close()
