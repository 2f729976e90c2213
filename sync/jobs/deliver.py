"""Delivering what the link announces: every message of the catalog's `messages` to every target that hears it,
in the target's language, through Apprise — outside any run.

Who hears what: an account's message goes to the account's own targets (set on Klanten) and the deployment's
(`SYNC_NOTIFY_URLS`, the support team); a message of the deployment as a whole to the deployment's; a message with
a `target_key` (a test, one target's digest) only to that target. A message is planned once (`message_plans`): its
deliveries are made for the targets there are then, so a target added later does not receive the past.

Sending never touches a run: the console's scheduler calls `deliver_due` every few seconds, and a command that
produced messages calls `at_exit` after its run ended, waiting a bounded time. Each send runs in a thread of its
own, with Apprise's socket timeouts lowered; what has not answered by the end of the wait counts as a failed
attempt (`timeout`). A failed delivery is tried again after a growing pause (`BACKOFF`, kept in the catalog, so a
restart keeps it) and given up after `MAX_ATTEMPTS`; a target that failed `FAILING_AFTER` times in a row shows on
Klanten and in `accounts list` until one message reaches it.

The words: a started problem says `notice.<kind>.title` (in the subject), `.what`, since when, `.fix` and the
console page where it is fixed (`FIX_PAGE`, with `?account=…&lang=…`); an ended one `.over`; the values are the
notice's and the message's. Never a key, token or password: the values are what the watcher recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sync.auth.access import Actor, authorize, may_open, require_account
from sync.core.dates import AMSTERDAM
from sync.core.explained import Explained
from sync.core.notices import FIX_PAGE, NoticeKind, Said, notice_words
from sync.core.targets import LANG_GIVEN as _LANG_GIVEN
from sync.core.targets import BadTarget, hint, parse
from sync.core.words import LANGUAGES, N_, NN_, Msg, say
from sync.jobs.services import Deployment
from sync.store.deliveries import FAILING_AFTER, Message, OpenNotice, StoredTarget, TargetState

log = logging.getLogger(__name__)

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
           timedelta(hours=1), timedelta(hours=3), timedelta(hours=6))
MAX_ATTEMPTS = 8          # then a delivery is given up (its target shows as failing long before)
SEND_TIMEOUT = 10.0       # seconds Apprise waits to connect and for each answer
JOB_WAIT = 60.0           # the console's background job waits this long for one round of sends
AT_EXIT_WAIT = 8.0        # a command waits this long, after its run, for what it produced to go out
TEST_WAIT = 20.0          # "Testbericht sturen" / `notify test` wait this long for every target's answer
MAX_SENDING = 8           # sends at once
INTERVAL_SECONDS = 5      # how often the console looks for what is due
OVERVIEW_PAGE = "Klanten"
_KINDS = frozenset(kind.value for kind in NoticeKind)


# Why a message did not arrive, as every surface says it (catalog keys).
ERROR_LABELS = {"refused": N_("notify.error.refused"), "timeout": N_("notify.error.timeout"),
                "invalid": N_("notify.error.invalid"), "error": N_("notify.error.error"),
                "gone": N_("notify.error.gone")}


def why_not(error: str | None) -> Msg:
    return Msg(ERROR_LABELS.get(error or "error", ERROR_LABELS["error"]))


class NotifyError(Explained, ValueError):
    """A target that cannot be set; `message` says why."""


@dataclass(frozen=True)
class Target:
    """A target as sending needs it. The URL is a secret: never shown, logged or put in an error."""

    key: str
    account_key: str | None  # None: the deployment's (SYNC_NOTIFY_URLS)
    url: str
    lang: str
    hint: str

    def __repr__(self) -> str:
        return f"Target({self.key!r}, {self.account_key!r}, {self.hint!r}, {self.lang!r})"


@dataclass(frozen=True)
class TargetView:
    """A target as Klanten shows it: its hint, language and whether messages reach it."""

    key: str
    account_key: str | None
    hint: str
    lang: str
    failing: bool
    last_error: str | None
    last_ok_at: datetime | None


@dataclass(frozen=True)
class Tried:
    """What one test message to one target did."""

    target: TargetView
    arrived: bool
    error: str | None


# -- targets ---------------------------------------------------------------------------------------------
def deployment_targets(deployment: Deployment) -> list[Target]:
    found = []
    for text in deployment.settings.notify_urls:
        written = parse(text)  # checked when the settings were read
        found.append(Target("d-" + deployment.vault.fingerprint(written.url), None, written.url, written.lang,
                            written.hint))
    return found


def account_targets(deployment: Deployment, account: str | None = None) -> list[Target]:
    """The targets of one account, or of every current account."""
    return [Target(stored.target_key, stored.account_key, deployment.vault.decrypt(stored.url_enc), stored.lang,
                   stored.hint) for stored in deployment.catalog.deliveries().targets(account)]


def targets_view(deployment: Deployment, account: str | None, actor: Actor | str) -> list[TargetView]:
    """The account's targets (None: the deployment's), as support sees them; never the address."""
    if account is not None:
        require_account(actor, account)
    states = {state.target_key: state for state in deployment.catalog.deliveries().states()}
    rows: list[tuple[str, str | None, str, str]]
    if account is None:
        rows = [(t.key, None, t.hint, t.lang) for t in deployment_targets(deployment)]
    else:
        rows = [(t.target_key, t.account_key, t.hint, t.lang)
                for t in deployment.catalog.deliveries().targets(account)]
    return [_view(key, owner, shown, lang, states.get(key)) for key, owner, shown, lang in rows]


def _view(key: str, account: str | None, shown: str, lang: str, state: TargetState | None) -> TargetView:
    return TargetView(key, account, shown, lang, failing=state is not None and state.failures_in_row >= FAILING_AFTER,
                      last_error=state.last_error if state else None, last_ok_at=state.last_ok_at if state else None)


def add_target(deployment: Deployment, account: str, text: str, *, actor: Actor | str,
               lang: str | None = None) -> TargetView:
    """Give the account a target (an Apprise URL, `lang=` its language, else `lang`, else Dutch), kept encrypted.
    Never touches the sandbox or any other setting."""
    who = authorize(actor, "keys")
    require_account(actor, account)
    deployment.account(account)
    try:
        written = parse(text)
    except BadTarget as wrong:
        raise NotifyError(wrong.why, code="invalid") from None
    if lang in LANGUAGES and not _LANG_GIVEN.search(text or ""):
        written = replace(written, lang=str(lang))
    key = "a-" + deployment.vault.fingerprint(f"{account}\n{written.url}")
    added = deployment.catalog.deliveries().add_target(StoredTarget(
        target_key=key, account_key=account, url_enc=deployment.vault.encrypt(written.url), hint=written.hint,
        lang=written.lang, created_by=who))
    if not added:
        raise NotifyError(Msg(N_("notify.target.known"), hint=written.hint), code="taken")
    return TargetView(key, account, written.hint, written.lang, False, None, None)


def remove_target(deployment: Deployment, account: str, target_key: str, *, actor: Actor | str) -> bool:
    authorize(actor, "keys")
    require_account(actor, account)
    return deployment.catalog.deliveries().remove_target(account, target_key)


def failing_targets(deployment: Deployment, actor: Actor | str = "cli") -> list[TargetState]:
    """Current targets whose messages do not arrive (failed `FAILING_AFTER` times in a row): the deployment's, and
    those of the accounts the actor may see. One no longer in SYNC_NOTIFY_URLS is not failing: it is gone."""
    current = _current_keys(deployment)
    return [state for state in deployment.catalog.deliveries().failing(FAILING_AFTER)
            if state.target_key in current and (state.account_key is None or may_open(actor, state.account_key))]


def _current_keys(deployment: Deployment) -> set[str]:
    """The keys of every target there is now, without opening their addresses."""
    return {*(t.key for t in deployment_targets(deployment)),
            *(t.target_key for t in deployment.catalog.deliveries().targets())}


# -- delivering ------------------------------------------------------------------------------------------
@dataclass
class Round:
    """What one round of delivering did."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0  # not tried: the round's time was up


def deliver_due(deployment: Deployment, *, wait: float = JOB_WAIT) -> Round:
    """Plan new messages and send every delivery that is due, waiting at most `wait` seconds for the targets."""
    book = deployment.catalog.deliveries()
    now = deployment.catalog.now()
    # Only current targets are tried or shown: what a target that is gone did not receive is dropped first, also
    # a delivery still waiting out its pause (it would otherwise stay due, and the target show as failing).
    book.drop_gone(_current_keys(deployment))
    unplanned = book.unplanned()
    due = book.due(now) if not unplanned else None
    if not unplanned and not due:
        return Round()
    targets = {target.key: target for target in (*deployment_targets(deployment), *account_targets(deployment))}
    for message in unplanned:
        book.plan(message.message_id, [(t.key, t.account_key) for t in _hearing(message, targets.values())], now)
    due = book.due(now)
    names = {account.key: account.name for account in deployment.accounts()}
    work = [(item, targets[item.target_key]) for item in due if item.target_key in targets]
    said: list[tuple[str, str, str]] = []
    unsaid: list[int] = []  # a message that cannot be said (a bug, or words missing) fails alone, retried later
    for index, (item, target) in enumerate(work):
        try:
            said.append((target.url, *render(item.message, target, deployment, names)))
        except Exception:
            log.exception("notification %s cannot be said", item.message.message_id)
            unsaid.append(index)
    outcomes: list[Outcome | None] = _send_all(said, wait)
    for index in unsaid:
        outcomes.insert(index, (False, "error"))
    done = Round()
    later = deployment.catalog.now()
    for (item, target), outcome in zip(work, outcomes, strict=True):
        if outcome is None:
            done.waiting += 1
            continue
        ok, error = outcome
        retry_at = None if ok or item.attempts + 1 >= MAX_ATTEMPTS else later + BACKOFF[min(item.attempts,
                                                                                             len(BACKOFF) - 1)]
        book.record(item.message.message_id, target.key, account_key=target.account_key, hint=target.hint, ok=ok,
                    error=error, now=later, retry_at=retry_at)
        if ok:
            done.sent += 1
        else:
            done.failed += 1
            log.warning("notification %s to %s failed (%s)", item.message.message_id, target.hint, error)
    return done


def at_exit(deployment: Deployment) -> None:
    """A command's end: send what it produced (and anything else due), waiting at most `AT_EXIT_WAIT`; never
    failing the command over it."""
    try:
        deliver_due(deployment, wait=AT_EXIT_WAIT)
    except Exception:
        log.exception("could not deliver notifications")


def _hearing(message: Message, targets: Iterable[Target]) -> list[Target]:
    if message.target_key is not None:
        return [t for t in targets if t.key == message.target_key]
    return [t for t in targets if t.account_key is None or t.account_key == message.account_key]


# -- the test message ------------------------------------------------------------------------------------
def send_test(deployment: Deployment, account: str | None, *, actor: Actor | str) -> list[Tried]:
    """One test message to each target — the account's and the deployment's, or (no account) every target — and
    per target whether it arrived. Tried once, not again: the answer is wanted now."""
    authorize(actor, "checks")
    if account is not None:
        require_account(actor, account)
        deployment.account(account)
    targets = deployment_targets(deployment) + account_targets(deployment, account)
    if isinstance(actor, Actor):
        targets = [t for t in targets if t.account_key is None or actor.may_open(t.account_key)]
    book = deployment.catalog.deliveries()
    now = deployment.catalog.now()
    names = {a.key: a.name for a in deployment.accounts()}
    planned = []
    for target in targets:
        owner = target.account_key or account
        message_id = book.add_test(account_key=owner, target_key=target.key, target_account=target.account_key,
                                   now=now)
        message = Message(message_id, owner, None, Said.TEST, {}, target.key, now)
        planned.append((message_id, target, render(message, target, deployment, names)))
    outcomes = _send_all([(target.url, *words) for _, target, words in planned], TEST_WAIT)
    states = {state.target_key: state for state in book.states()}
    tried = []
    later = deployment.catalog.now()
    for (message_id, target, _), outcome in zip(planned, outcomes, strict=True):
        ok, error = outcome if outcome is not None else (False, "timeout")
        book.record(message_id, target.key, account_key=target.account_key, hint=target.hint, ok=ok, error=error,
                    now=later, retry_at=None)
        state = states.get(target.key)
        failures = 0 if ok else (state.failures_in_row if state else 0) + 1
        view = TargetView(target.key, target.account_key, target.hint, target.lang, failures >= FAILING_AFTER,
                          error, later if ok else state.last_ok_at if state else None)
        tried.append(Tried(view, ok, error))
    return tried


# -- the daily digest ------------------------------------------------------------------------------------
def digest_due(deployment: Deployment) -> int:
    """At the digest hour (Amsterdam), once a day per target: what is still open for the accounts it hears. A day
    when all is well sends nothing, unless SYNC_NOTIFY_DIGEST_ALWAYS. Returns the digests made (delivered by the
    next `deliver_due`)."""
    settings = deployment.settings
    now = deployment.catalog.now().astimezone(AMSTERDAM)
    if now.hour < settings.notify_digest_hour:
        return 0
    since = now.replace(hour=settings.notify_digest_hour, minute=0, second=0, microsecond=0)
    book = deployment.catalog.deliveries()
    targets = [*deployment_targets(deployment), *account_targets(deployment)]
    if not targets:
        return 0
    names = {account.key: account.name for account in deployment.accounts()}
    open_now: dict[str, list[OpenNotice]] = {}
    for notice in book.open_notices():
        open_now.setdefault(notice.account_key, []).append(notice)
    made = 0
    for target in targets:
        last = book.last_digest(target.key)
        if last is not None and last >= since:
            continue
        keys = sorted(names) if target.account_key is None else [target.account_key]
        listed = [{"key": key, "name": names.get(key, key),
                   "open": [{"kind": n.kind, "values": n.values, "identity": n.identity_id,
                             "since": n.started_at.isoformat()} for n in open_now.get(key, [])]}
                  for key in keys if open_now.get(key)]
        if not listed and not settings.notify_digest_always:
            continue
        book.add_message(account_key=target.account_key, said=Said.DIGEST, values={"accounts": listed},
                         target_key=target.key, now=now)
        made += 1
    return made


def every_few_seconds(deployment: Deployment) -> None:
    """The console's background job: today's digests when their hour came, then whatever is due. With several
    nodes one of them at a time: another that finds it busy leaves this round to it."""
    try:
        with deployment.alone("deliver") as alone:
            if alone:
                digest_due(deployment)
                deliver_due(deployment)
    except Exception:  # the job runs again in a few seconds; a broken round must not stop the scheduler
        log.exception("delivering notifications failed")


# -- the words -------------------------------------------------------------------------------------------
def render(message: Message, target: Target, deployment: Deployment, names: dict[str, str]) -> tuple[str, str]:
    """The message's subject and body in the target's language."""
    lang = target.lang
    account = message.account_key
    name = names.get(account, account) if account else say("notify.deployment", lang)
    if message.said == Said.TEST:
        if target.account_key is None:  # the support team's: it hears every account, whichever the test was for
            return (say("notify.test.title_team", lang),
                    "\n\n".join([say("notify.test.body_team", lang, hint=target.hint),
                                 _link(deployment, OVERVIEW_PAGE, None, lang, opens=True)]))
        return (say("notify.test.title", lang, account=name),
                "\n\n".join([say("notify.test.body", lang, hint=target.hint),
                             _link(deployment, OVERVIEW_PAGE, account, lang, opens=True)]))
    if message.said == Said.DIGEST:
        return _digest(message, lang, deployment)
    kind = message.kind or ""
    if kind not in _KINDS:
        raise ValueError(f"message {message.message_id} is about no known kind of problem ({kind!r})")
    # The watcher's values: the notice's as found, the message's as said (a group's list, when it was over).
    values: dict[str, Any] = {**(message.notice_values or {}), **message.values}
    link = _link(deployment, FIX_PAGE[NoticeKind(kind)], account, lang, message.identity_id)
    title = notice_words(kind, "title", values)
    if message.said == Said.OVER:  # nothing to fix any more: the link only opens the page
        link = _link(deployment, FIX_PAGE[NoticeKind(kind)], account, lang, message.identity_id, opens=True)
        return (say("notify.title_over", lang, what=title),
                "\n\n".join([say(notice_words(kind, "over", values), lang), link]))
    return (say(title, lang), "\n\n".join([say(notice_words(kind, "what", values), lang),
                                            say(notice_words(kind, "fix", values), lang), link]))


def _digest(message: Message, lang: str, deployment: Deployment) -> tuple[str, str]:
    listed = message.values.get("accounts") or []
    grouped = [(account, _digest_groups(account.get("open") or [])) for account in listed]
    problems = sum(len(groups) for _, groups in grouped)
    if not problems:
        return say("notify.digest.title_well", lang), "\n\n".join(
            [say("notify.digest.all_well", lang), _link(deployment, OVERVIEW_PAGE, message.account_key, lang)])
    parts = []
    for account, groups in grouped:
        lines = [say("notify.digest.account", lang, account=account.get("name") or account.get("key") or "")]
        for kind, values, since in groups:
            lines.append(say("notify.digest.item", lang, what=notice_words(kind, "title", values), since=since))
        lines.append(_link(deployment, OVERVIEW_PAGE, account.get("key"), lang))
        parts.append("\n".join(lines))
    return say(Msg(NN_("notify.digest.title"), n=problems, accounts=len(listed)), lang), "\n\n".join(parts)


def _digest_groups(items: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], str]]:
    """An account's open problems as the digest lists them: one line per identity and kind — each waiting invoice
    is a problem of its own, but seven of them are one line, "7 facturen" — with the count (`n`, the sum of each
    problem's own count, else 1) and since when the oldest is open. In the order first found."""
    found: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for item in items:
        found.setdefault((item.get("identity"), str(item.get("kind"))), []).append(item)
    groups = []
    for (_, kind), members in found.items():
        values = dict(members[0].get("values") or {})
        values["n"] = sum(int((m.get("values") or {}).get("n") or 1) for m in members)
        groups.append((kind, values, min(str(m.get("since") or "") for m in members)))
    return groups


def _link(deployment: Deployment, page: str, account: str | None, lang: str, identity: int | None = None, *,
          opens: bool = False) -> str:
    """The console page, opened on the account (and the identity the problem is about) in the reader's language:
    "fix it there", or (`opens`: a test, a problem that is over) just "open the console"."""
    query: dict[str, str | int] = {"account": account} if account else {}
    if identity is not None:
        query["identity"] = identity
    query["lang"] = lang
    url = f"{deployment.settings.console_public_url}/{page}?{urlencode(query)}"
    return say("notify.link_open" if opens else "notify.link", lang, url=url)


# -- sending ---------------------------------------------------------------------------------------------
Outcome = tuple[bool, str | None]  # arrived, else why not: refused | timeout | invalid | error


def send(url: str, title: str, body: str) -> Outcome:
    """One message to one Apprise URL; whether the target took it."""
    import apprise

    server = apprise.Apprise()
    if not server.add(url):
        return False, "invalid"
    shortest = SEND_TIMEOUT
    for plugin in server:  # a target that hangs gives up after SEND_TIMEOUT, not Apprise's own minutes
        plugin.socket_connect_timeout = min(float(plugin.socket_connect_timeout or SEND_TIMEOUT), SEND_TIMEOUT)
        plugin.socket_read_timeout = min(float(plugin.socket_read_timeout or SEND_TIMEOUT), SEND_TIMEOUT)
        shortest = min(shortest, plugin.socket_connect_timeout, plugin.socket_read_timeout)
    began = time.monotonic()
    try:
        ok = server.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:  # a plugin's own error is the target's failure, said by its kind only
        log.warning("notification target %s raised %s", hint(url), type(exc).__name__)
        return False, "error"
    if ok:
        return True, None
    # Apprise says only "not sent". A refusal (an error status, a closed port) comes back at once; a failure that
    # took at least a socket timeout is a target that did not answer in time.
    return False, "timeout" if time.monotonic() - began >= shortest * 0.95 else "refused"


def _send_all(work: list[tuple[str, str, str]], wait: float,
              sender: Callable[[str, str, str], Outcome] | None = None) -> list[Outcome | None]:
    """Send each (url, title, body) in a thread of its own (at most `MAX_SENDING` at once), waiting at most `wait`
    seconds in all. An attempt that did not answer in time is `timeout`; one not started in time is None (not
    tried: it stays due as it was). The threads are daemons: a command never waits at exit for a target that
    hangs."""
    chosen = sender or send
    results: list[Outcome | None] = [None] * len(work)
    started = [False] * len(work)
    gate = threading.Semaphore(MAX_SENDING)
    deadline = time.monotonic() + wait

    def one(index: int, url: str, title: str, body: str) -> None:
        with gate:
            if time.monotonic() >= deadline:
                return
            started[index] = True
            try:
                results[index] = chosen(url, title, body)
            except Exception:
                log.exception("sending a notification to %s failed", hint(url))
                results[index] = (False, "error")

    threads = [threading.Thread(target=one, args=(i, *item), daemon=True, name="notify-send")
               for i, item in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return [result if result is not None else (False, "timeout") if started[i] else None
            for i, result in enumerate(results)]
