"""SnelStart's activation flow ("Maatwerk key ophalen"): a single-use referenceKey, SnelStart's webhook that
delivers the koppelsleutel, and the user's confirmation that makes it the identity's link.

`start_activation` makes a single-use, expiring, unguessable `referenceKey` and the SnelStart activation URL. The
user picks the administration in SnelStart, SnelStart POSTs `{KoppelSleutel, ActionType, ReferenceKey}` to our
webhook (`handle_webhook`) and sends the browser back to the console. The key waits, encrypted, on the link request
until the user confirms (`confirm_activation`).

SnelStart delivers a webhook once ("any 2xx counts, no retry"), so the webhook answers 2xx only once the key is
committed, and refuses anything it cannot trust with a 4xx that changes nothing. A key for a valid request that
cannot be verified right now (SnelStart busy or unreachable) is not lost: it is kept, encrypted, as "received, not
yet verified" and verified when the user confirms. The webhook's answers are for SnelStart's software: an error
code and a line in English.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from urllib.parse import urlencode

from sync.auth.access import Actor, authorize
from sync.core import json_limits
from sync.core.config import Settings
from sync.core.events import EventKind
from sync.core.log_limit import LimitedLog
from sync.core.vault import Vault
from sync.core.words import N_, Msg, jsonable, say
from sync.jobs.linking import (
    LinkError,
    VerifiedKey,
    check_start_date,
    clean_key,
    know_links,
    link_error,
    links_beside,
    require_identity,
    save_link,
    shared_confirmation,
    unlink,
    verify_key,
)
from sync.jobs.services import Services
from sync.store import history, link_requests
from sync.store import setup as setup_repo
from sync.store.catalog import DEFAULT_ACCOUNT
from sync.store.link_requests import (
    DELETED,
    EXPIRED,
    LINKED,
    RECEIVED,
    REGENERATED,
    UNVERIFIED,
    LinkRequestRow,
    RequestState,
)
from sync.store.link_requests import state as _state

log = logging.getLogger(__name__)

# The console's linking page (where SnelStart sends the browser back) and the webhook route. The console owns
# its page names: change CONSOLE_LINK_PAGE here when the page moves.
CONSOLE_LINK_PAGE = "/Koppelen"
WEBHOOK_PATH = "/webhooks/snelstart"

ACTIVATION_TTL = timedelta(minutes=30)
ACTIONS = ("Create", "Regenerate", "Delete")
MAX_REFERENCE_KEY = 500  # SnelStart's own limit on referenceKey
MAX_WEBHOOK_BYTES = 64 * 1024
WEBHOOK_ACTOR = "snelstart-webhook"
ACCOUNT_SEPARATOR = "."  # never in token_urlsafe's alphabet, never in an account key

# Check-then-write of link requests (webhook, confirm) happens under this lock, so a replayed or concurrent
# delivery can never use one referenceKey twice. Verification (network) happens outside it.
_requests_lock = threading.Lock()


@dataclass(frozen=True)
class ActivationRequest:
    reference_key: str
    identity_id: int
    url: str
    expires_at: datetime


@dataclass
class WebhookResult:
    status: int
    body: dict[str, Any]


def webhook_url(settings: Settings) -> str:
    """Where SnelStart (or the sandbox's SnelStart page) POSTs the activation webhook."""
    return settings.console_public_url.rstrip("/") + WEBHOOK_PATH


def success_url(settings: Settings, identity_id: int, reference_key: str, account: str | None = None,
                lang: str | None = None) -> str:
    """Where SnelStart sends the user back: the linking page of the account and identity, in the language they left
    in. The browser comes back in a new session, which knows only what the address says."""
    extra = {name: value for name, value in (("account", account), ("lang", lang)) if value}
    query = urlencode({"identity": identity_id, "ref": reference_key, **extra})
    return f"{settings.console_public_url.rstrip('/')}{CONSOLE_LINK_PAGE}?{query}"


def activation_url(settings: Settings, reference_key: str, return_to: str) -> str:
    query = urlencode({"referenceKey": reference_key, "successUrl": return_to})
    return f"{settings.snelstart_web_url.rstrip('/')}/couplings/activate/{settings.snelstart_app_short_name}?{query}"


def start_activation(services: Services, identity_id: int, *, actor: Actor | str, lang: str | None = None,
                     ttl: timedelta = ACTIVATION_TTL) -> ActivationRequest:
    """A single-use, expiring referenceKey for this identity and the SnelStart page to send the user to. `lang`: the
    language the user reads, carried by the return address (a code, never words)."""
    actor = authorize(actor, "link")
    store = services.store
    require_identity(store, identity_id)
    # 256 bits: unguessable, URL-safe, far below SnelStart's 500. An added account's keys start with its key, so the
    # webhook (one address for the deployment) finds the account the request belongs to.
    reference_key = secrets.token_urlsafe(32)
    if services.account != DEFAULT_ACCOUNT:
        reference_key = f"{services.account}{ACCOUNT_SEPARATOR}{reference_key}"
    expires_at = store.now() + ttl
    with store.transaction():
        link_requests.create(store, reference_key, identity_id, expires_at, str(actor))
        name = setup_repo.identity_name(store, identity_id)
        history.log_event(store, EventKind.LINK_STARTED, identity_id=identity_id, actor=actor,
                          data={"name": name, "expires_at": expires_at})
    settings = services.settings
    url = activation_url(settings, reference_key,
                         success_url(settings, identity_id, reference_key, services.account, lang))
    return ActivationRequest(reference_key, identity_id, url, expires_at)


class ReturnState(StrEnum):
    """What a return link from SnelStart (`?ref=`) stands for now (`return_state`)."""

    WAITING = "waiting"  # the key has not arrived yet — it may still
    PENDING = "pending"  # arrived, not saved
    USED = "used"  # saved, replaced or expired: an old link from the back button or a bookmark
    UNKNOWN = "unknown"  # not a request of this identity


def _expired(row: LinkRequestRow, now: datetime) -> bool:
    return bool(row["expires_at"] <= now)


# ================================================================================================ the webhook


class Delivery(NamedTuple):
    """A webhook body that reads as SnelStart's: the key (cleaned), the action and the referenceKey."""

    key: str
    action: str
    reference: str


def account_of_reference(reference: str) -> str | None:
    """The account a referenceKey names (`acme.…`); None: one from the default account (made before accounts)."""
    if ACCOUNT_SEPARATOR not in reference[:MAX_REFERENCE_KEY]:
        return None
    return reference.split(ACCOUNT_SEPARATOR, 1)[0]


# What anyone can send: one line per refused delivery in the server log, but never a flood of them.
refusals_log = LimitedLog(log, per_minute=30)


def log_refusal(status: int, error: str) -> None:
    """The server log's line for a refused delivery (never with the key)."""
    refusals_log.warning("SnelStart webhook refused (%s %s)", status, error)


def _answer(status: int, error: str, key: str, **values: Any) -> WebhookResult:
    """A refusal for SnelStart's software: the error code and the reason in English."""
    return WebhookResult(status, {"error": error, "message": say(Msg(key, **values), "en")})


def read_webhook(payload: Any) -> Delivery | WebhookResult:
    """The delivery, or the 4xx that refuses it (logged). Names match case-insensitively (SnelStart is .NET);
    values must be strings."""
    found = _parse_webhook(payload)
    if isinstance(found, WebhookResult):
        log_refusal(found.status, found.body["error"])
    return found


def unknown_reference() -> WebhookResult:
    """The answer (logged) to a delivery whose referenceKey names no account here: as any unknown reference."""
    log_refusal(404, "unknown_reference")
    return _answer(404, "unknown_reference", N_("webhook.answer.unknown_reference"))


def _parse_webhook(payload: Any) -> Delivery | WebhookResult:
    if isinstance(payload, bytes | bytearray | str):
        if len(payload) > MAX_WEBHOOK_BYTES:
            return _answer(413, "too_large", N_("webhook.answer.too_large"))
        try:
            payload = json_limits.loads(payload)  # nesting bounded: SnelStart sends one flat object
        except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
            return _answer(400, "malformed", N_("webhook.answer.not_json"))
    if not isinstance(payload, dict):
        return _answer(400, "malformed", N_("webhook.answer.not_an_object"))
    fields = {str(k).lower(): v for k, v in payload.items()}
    key, action, reference = (fields.get(n) for n in ("koppelsleutel", "actiontype", "referencekey"))
    if not (isinstance(key, str) and isinstance(action, str) and isinstance(reference, str)):
        return _answer(400, "malformed", N_("webhook.answer.not_strings"))
    if action not in ACTIONS:
        return _answer(400, "malformed", N_("webhook.answer.unknown_action"), actions=list(ACTIONS))
    if not reference or len(reference) > MAX_REFERENCE_KEY:
        return _answer(400, "malformed", N_("webhook.answer.bad_reference"))
    try:
        key = clean_key(key)
    except LinkError:
        return _answer(400, "malformed", N_("webhook.answer.not_a_key"))
    return Delivery(key, action, reference)


# Why a delivery for a request we know was refused: what the identity's log says, and SnelStart's answer.
REFUSALS = {
    "expired": N_("webhook.answer.expired"),
    "replayed": N_("webhook.answer.replayed"),
    "second_key": N_("webhook.answer.replayed"),
    "stale_request": N_("webhook.answer.replayed"),
    "key_not_verified": N_("webhook.answer.key_not_verified"),
    "other_administration": N_("webhook.answer.other_administration"),
    "not_linked": N_("webhook.answer.not_linked"),
}


def _note_refusal(services: Services, row: LinkRequestRow | None, status: int, error: str, *,
                  why: str | None = None, reason: Msg | None = None) -> WebhookResult:
    """A refused delivery for a request we know is worth a line in the identity's log: the user is waiting for
    it. Unknown references are only logged for the operator (never with the key). `why` names the refusal more
    precisely than the answer's `error` does."""
    log_refusal(status, error)
    if row is not None:
        history.log_event(services.store, EventKind.WEBHOOK_REFUSED, identity_id=row["identity_id"],
                          actor=WEBHOOK_ACTOR,
                          data={"status": status, "error": why or error, "reason": jsonable(reason)})
    return _answer(status, error, REFUSALS[why or error])


def handle_webhook(services: Services, payload: Any) -> WebhookResult:
    """SnelStart's activation webhook. 2xx only once the key is stored; any refusal changes nothing.

    - Create: a fresh (known, unexpired, unused) referenceKey; the verified key waits on the request until the
      user confirms in the console (`confirm_activation`).
    - Regenerate: on a fresh referenceKey as Create, except that an identity already linked to the same
      administration gets the new key directly. SnelStart also sends it later, with the referenceKey the link
      was made with (the user made a new key in SnelStart): then the link's key is replaced, provided the new
      key opens the same administration. A pending key is replaced the same way.
    - Delete: the key must be the identity's linked (or pending) key; the link is removed.
    """
    parsed = payload if isinstance(payload, Delivery) else read_webhook(payload)
    if isinstance(parsed, WebhookResult):
        return parsed
    key, action, reference = parsed
    store = services.store
    row = link_requests.get(store, reference)
    if row is None:
        return unknown_reference()
    if action == "Delete":
        return _webhook_delete(services, row, key)

    state = _state(row)
    if state == RequestState.FRESH and _expired(row, store.now()):
        return _note_refusal(services, row, 410, "expired")
    link = setup_repo.get_link(store, row["identity_id"])
    if action == "Create" and state != RequestState.FRESH:
        return _note_refusal(services, row, 409, "replayed", why="second_key")
    if action == "Regenerate" and state == RequestState.USED and not _made_current_link(row, link):
        return _note_refusal(services, row, 409, "replayed", why="stale_request")

    try:
        verified = verify_key(services, key, for_identity=row["identity_id"])
    except LinkError as exc:
        if exc.code == "unavailable":  # SnelStart will not send it again: keep it, verify when the user confirms
            return _keep_unverified(services, row, state, key, action)
        return _note_refusal(services, row, 422, "key_not_verified", reason=exc.message)

    with _requests_lock:
        current = link_requests.get(store, reference)
        if current is None or _state(current) != state or current["key_enc"] != row["key_enc"]:
            return _note_refusal(services, row, 409, "replayed")
        link = setup_repo.get_link(store, row["identity_id"])
        same_admin_link = link is not None and link.administration_id == verified.administration_id
        if action == "Regenerate" and (state == RequestState.USED or (state == RequestState.FRESH and same_admin_link)):
            return _regenerate_link(services, current, link, key, verified)
        if action == "Regenerate" and state == RequestState.PENDING:
            if current["administration_id"] not in (None, verified.administration_id):  # None: not yet verified
                return _note_refusal(services, row, 409, "other_administration")
            if current["key_enc"] is not None and services.vault.decrypt(current["key_enc"]) == key:
                return _note_refusal(services, row, 409, "replayed")
        with store.transaction():
            link_requests.receive(store, reference, key_enc=services.vault.encrypt(key), action=action,
                                  administration_id=verified.administration_id,
                                  administration_name=verified.administration_name)
            name = setup_repo.identity_name(store, row["identity_id"])
            history.log_event(
                store, EventKind.KEY_DELIVERED, identity_id=row["identity_id"], actor=WEBHOOK_ACTOR,
                data={"key_hint": verified.key_hint, "administration": verified.administration_name, "name": name,
                      "administration_id": verified.administration_id, "action": action},
            )
    return WebhookResult(200, {"status": RECEIVED})


def _keep_unverified(services: Services, row: LinkRequestRow, state: RequestState, key: str,
                     action: str) -> WebhookResult:
    """The key came for a valid request but SnelStart cannot be asked about it now. SnelStart does not deliver
    twice, so it is kept encrypted on the request, pending, without an administration; `confirm_activation`
    verifies it when the user saves."""
    store = services.store
    with _requests_lock:
        current = link_requests.get(store, row["reference_key"])
        if current is None or _state(current) != state or current["key_enc"] != row["key_enc"]:
            return _note_refusal(services, row, 409, "replayed")
        with store.transaction():
            link_requests.receive(store, row["reference_key"], key_enc=services.vault.encrypt(key), action=action,
                                  administration_id=None, administration_name=None)
            name = setup_repo.identity_name(store, row["identity_id"])
            history.log_event(store, EventKind.KEY_DELIVERED_UNVERIFIED, identity_id=row["identity_id"],
                              actor=WEBHOOK_ACTOR, data={"key_hint": Vault.hint(key), "name": name, "action": action})
    return WebhookResult(200, {"status": UNVERIFIED})


def _made_current_link(row: LinkRequestRow, link: setup_repo.Link | None) -> bool:
    """Was the identity's current link made (or last regenerated) from this request?"""
    return (link is not None and row["outcome"] in (LINKED, REGENERATED)
            and row["administration_id"] == link.administration_id)


def _regenerate_link(services: Services, row: LinkRequestRow, link: setup_repo.Link | None, key: str,
                     verified: VerifiedKey) -> WebhookResult:
    """Caller holds `_requests_lock`. Replace the linked key, when the new one opens the same administration."""
    store = services.store
    if link is None or link.administration_id != verified.administration_id:
        return _note_refusal(services, row, 409, "other_administration")
    if services.vault.decrypt(link.koppelsleutel_enc) == key:
        return _note_refusal(services, row, 409, "replayed")
    with store.transaction():
        setup_repo.replace_link_key(store, link.identity_id, services.vault.encrypt(key), verified.key_hint)
        link_requests.regenerated(store, row["reference_key"], administration_id=verified.administration_id,
                                  administration_name=verified.administration_name)
        name = setup_repo.identity_name(store, link.identity_id)
        history.log_event(
            store, EventKind.KEY_REPLACED, identity_id=link.identity_id, actor=WEBHOOK_ACTOR,
            data={"name": name, "key_hint": verified.key_hint, "previous_key_hint": link.key_hint,
                  "administration_id": verified.administration_id},
        )
    services.forget_clients()
    return WebhookResult(200, {"status": REGENERATED})


def _webhook_delete(services: Services, row: LinkRequestRow, key: str) -> WebhookResult:
    """The user removed the link in SnelStart. Only the key SnelStart gave us for this request can remove it."""
    store = services.store
    with _requests_lock:
        current = link_requests.get(store, row["reference_key"]) or row
        identity_id = current["identity_id"]
        if (_state(current) == RequestState.PENDING and current["key_enc"] is not None
                and services.vault.decrypt(current["key_enc"]) == key):
            with store.transaction():
                link_requests.close(store, current["reference_key"], DELETED)
                history.log_event(store, EventKind.LINK_REMOVED_IN_SNELSTART, identity_id=identity_id,
                                  actor=WEBHOOK_ACTOR)
            return WebhookResult(200, {"status": DELETED})
        link = setup_repo.get_link(store, identity_id)
        if link is None or services.vault.decrypt(link.koppelsleutel_enc) != key:
            return _note_refusal(services, current, 409, "not_linked")
        with store.transaction():
            unlink(services, identity_id, actor=WEBHOOK_ACTOR)
            link_requests.mark_deleted(store, current["reference_key"])
    services.forget_clients()
    return WebhookResult(200, {"status": DELETED})


# ================================================================================================ back in the console


def return_state(services: Services, identity_id: int, reference_key: object) -> ReturnState:
    """What a return link from SnelStart (`?ref=`) stands for now."""
    row = link_requests.get(services.store, reference_key) if isinstance(reference_key, str) and reference_key \
        else None
    if row is None or row["identity_id"] != identity_id:
        return ReturnState.UNKNOWN
    state = _state(row)
    if state != RequestState.USED and _expired(row, services.store.now()):
        return ReturnState.USED
    return {RequestState.FRESH: ReturnState.WAITING, RequestState.PENDING: ReturnState.PENDING,
            RequestState.USED: ReturnState.USED}[state]


def pending_activation(services: Services, identity_id: int) -> dict[str, Any] | None:
    """The latest key SnelStart delivered for the identity that the user has not saved yet."""
    row = link_requests.pending_for(services.store, identity_id)
    if row is None or row["key_enc"] is None:  # (the store hands out only those with a key)
        return None
    administration_id = row["administration_id"]  # None: not verified yet, so no other identity is known to share it
    shared = links_beside(services, administration_id, identity_id) if administration_id is not None else ()
    others = tuple(link.identity_id for link in shared if link.account_key == services.account)
    return {
        "reference_key": row["reference_key"],
        "identity_id": identity_id,
        "verified": row["outcome"] != UNVERIFIED,  # False: SnelStart was unreachable; checked on confirming
        "administration_id": row["administration_id"],
        "administration_name": row["administration_name"],
        "key_hint": Vault.hint(services.vault.decrypt(row["key_enc"])),
        "action": row["action"],
        "received_at": row["received_at"],
        "other_identities": others,
        "shared_with": shared,  # every other link to the administration, of any account
    }


def confirm_activation(services: Services, identity_id: int, reference_key: str, *, start_date: date | None = None,
                       actor: Actor | str, confirm_shared: bool = False,
                       confirmed_by: str | None = None) -> VerifiedKey:
    """The user's "Opslaan": the delivered key becomes the identity's link (once) — refused, as a pasted key is,
    when another link has its administration already, unless support confirms it (`linking.link_with_key`)."""
    actor = authorize(actor, "link")
    store = services.store
    row = link_requests.get(store, reference_key) if isinstance(reference_key, str) else None
    if row is None or row["identity_id"] != identity_id or _state(row) != RequestState.PENDING or not row["key_enc"]:
        raise link_error(N_("link.error.nothing_pending"), code="not_pending")
    if start_date is not None:
        check_start_date(services, start_date)
    if _expired(row, store.now()):  # a delivered key is only good for as long as its request
        with _requests_lock, store.transaction():
            link_requests.close(store, reference_key, EXPIRED, only_unused=True)
        raise link_error(N_("link.error.request_expired"), code="expired")
    key = services.vault.decrypt(row["key_enc"])
    verified = verify_key(services, key, for_identity=identity_id)
    who = shared_confirmation(services, identity_id, verified, actor=actor, confirm_shared=confirm_shared,
                              confirmed_by=confirmed_by)
    with _requests_lock:
        current = link_requests.get(store, reference_key)
        if current is None or _state(current) != RequestState.PENDING or current["key_enc"] != row["key_enc"]:
            raise link_error(N_("link.error.handled_meanwhile"), code="not_pending")
        with store.transaction():
            save_link(services, identity_id, key, verified, start_date=start_date, actor=actor, how="activation",
                      confirmed_by=who)
            link_requests.close(store, reference_key, LINKED)
            link_requests.supersede_pending(store, identity_id, keep=reference_key)
    know_links(services, confirmed={identity_id: who} if who else None)
    services.forget_clients()
    services.linked(identity_id)  # its setup checks, so its health tells the truth from the start
    return verified
