"""Linking a Gripp identity to one SnelStart administration: the activation flow and the paste fallback.

Two ways to a koppelsleutel, as the seed describes them:

- **Activation** ("Maatwerk key ophalen"): `start_activation` makes a single-use, expiring, unguessable
  `referenceKey` and the SnelStart activation URL. The user picks the administration in SnelStart, SnelStart
  POSTs `{KoppelSleutel, ActionType, ReferenceKey}` to our webhook (`handle_webhook`) and sends the browser back
  to the console. The key waits, encrypted, on the link request until the user confirms (`confirm_activation`).
- **Paste**: a key from SnelStart's "Maatwerk" tile (`link_with_key`).

Either way the key is verified first (a token, then `companyInfo`) so the user sees which administration it
opens before anything is saved. One administration per identity; an administration already linked to another
identity needs an explicit confirmation. Keys are stored encrypted (`sync.core.vault`), shown as `…ab12`, and never
logged, echoed or put in an event.

SnelStart delivers a webhook once ("any 2xx counts, no retry"), so the webhook answers 2xx only once the key is
committed, and refuses anything it cannot trust with a 4xx that changes nothing. A key for a valid request that
cannot be verified right now (SnelStart busy or unreachable) is not lost: it is kept, encrypted, as "received, not
yet verified" and verified when the user confirms.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sync.auth.access import Actor, authorize
from sync.core import fmt, json_limits
from sync.core.config import Settings
from sync.core.dates import AMSTERDAM
from sync.core.events import render
from sync.core.explained import Explained
from sync.core.vault import Vault
from sync.gripp.errors import GrippError
from sync.jobs.refresh import refresh_gripp
from sync.jobs.services import Services
from sync.snelstart import constants as ss_constants
from sync.snelstart import errors as ss_errors
from sync.store import history
from sync.store import setup as setup_repo
from sync.store.catalog import DEFAULT_ACCOUNT
from sync.store.db import Store

log = logging.getLogger(__name__)

# What the link needs from the token's scopes. documenten:read too: a booking that is already in SnelStart is
# adopted, and its attachments are looked up before the PDF is uploaded again.
REQUIRED_SCOPES: tuple[str, ...] = ss_constants.REQUIRED_SCOPES

# The console's linking page (where SnelStart sends the browser back) and the webhook route. The console owns
# its page names: change CONSOLE_LINK_PAGE here when the page moves.
CONSOLE_LINK_PAGE = "/Koppelen"
WEBHOOK_PATH = "/webhooks/snelstart"

ACTIVATION_TTL = timedelta(minutes=30)
ACTIONS = ("Create", "Regenerate", "Delete")
MAX_REFERENCE_KEY = 500  # SnelStart's own limit on referenceKey
MAX_KEY_LENGTH = 4096
MAX_WEBHOOK_BYTES = 64 * 1024
WEBHOOK_ACTOR = "snelstart-webhook"

# Outcomes on link_requests.
RECEIVED, LINKED, REGENERATED, DELETED, SUPERSEDED, EXPIRED = (
    "received", "linked", "regenerated", "deleted", "superseded", "expired")
UNVERIFIED = "received_unverified"  # delivered while SnelStart could not be asked which administration it opens

# Check-then-write of link requests (webhook, confirm) happens under this lock, so a replayed or concurrent
# delivery can never use one referenceKey twice. Verification (network) happens outside it.
_requests_lock = threading.Lock()


class LinkError(Explained):
    """A link could not be made or changed; `nl`/`en` say why in plain words, `code` is for callers:
    invalid | rejected | unavailable | shared | unknown_identity | not_pending | expired."""


@dataclass(frozen=True)
class VerifiedKey:
    administration_id: str
    administration_name: str
    company_name: str
    scopes: tuple[str, ...]
    missing_scopes: tuple[str, ...]
    other_identities: tuple[int, ...]  # identities already linked to this administration
    key_hint: str

    @property
    def allows_integration(self) -> bool:
        return not self.missing_scopes


@dataclass(frozen=True)
class ActivationRequest:
    reference_key: str
    identity_id: int
    url: str
    expires_at: datetime


@dataclass
class WebhookResult:
    status: int
    body: dict


# ================================================================================================ helpers


def webhook_url(settings: Settings) -> str:
    """Where SnelStart (or the sandbox's SnelStart page) POSTs the activation webhook."""
    return settings.console_public_url.rstrip("/") + WEBHOOK_PATH


def success_url(settings: Settings, identity_id: int, reference_key: str, account: str | None = None) -> str:
    """Where SnelStart sends the user back: the linking page of the account (when there are several) and identity."""
    query = urlencode({"identity": identity_id, "ref": reference_key, **({"account": account} if account else {})})
    return f"{settings.console_public_url.rstrip('/')}{CONSOLE_LINK_PAGE}?{query}"


def activation_url(settings: Settings, reference_key: str, return_to: str) -> str:
    query = urlencode({"referenceKey": reference_key, "successUrl": return_to})
    return f"{settings.snelstart_web_url.rstrip('/')}/couplings/activate/{settings.snelstart_app_short_name}?{query}"


def _clean_key(koppelsleutel: Any) -> str:
    """A pasted key loses the spaces and line breaks copying adds; anything else odd is refused."""
    if not isinstance(koppelsleutel, str):
        raise LinkError("De koppelsleutel moet tekst zijn.", "The koppelsleutel must be text.")
    key = "".join(koppelsleutel.split())
    if not key:
        raise LinkError("Vul een koppelsleutel in.", "Enter a koppelsleutel.")
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise LinkError(
            "Dit lijkt geen koppelsleutel: kopieer hem opnieuw uit SnelStart (Koppelingen → Maatwerk).",
            "This does not look like a koppelsleutel: copy it again from SnelStart (Koppelingen → Maatwerk).",
        )
    return key


MAX_IDENTITY_ID = 2**31 - 1  # Gripp's ids are 32-bit integers; anything longer is a typing slip
LATEST_START = timedelta(days=366)  # a start date further ahead books nothing for over a year: a typing slip


def check_start_date(services: Services, start_date: object) -> date:
    """A start date the link can book from: a date, at most about a year after today (the sandbox's today in
    sandbox mode). A date years ahead would make every run book nothing, silently, so it is refused."""
    if not isinstance(start_date, date):
        raise LinkError("Kies een datum.", "Choose a date.")
    today = services.today()
    if start_date > today + LATEST_START:
        raise LinkError(
            f"Startdatum {fmt.day(start_date, 'nl')} ligt meer dan een jaar na vandaag ({fmt.day(today, 'nl')}): "
            "dan wordt er al die tijd niets geboekt. Kies de dag vanaf wanneer Gripp-facturen in SnelStart moeten "
            "komen, meestal het begin van dit boekjaar.",
            f"Start date {fmt.day(start_date, 'en')} is more than a year after today ({fmt.day(today, 'en')}): "
            "nothing would be booked all that time. Choose the day from which Gripp invoices should reach "
            "SnelStart, usually the start of this financial year.", code="invalid")
    return start_date


def _identity_known(store: Store, identity_id: int) -> bool:
    return bool(store.scalar("SELECT count(*) FROM identities WHERE identity_id = ?", [identity_id]))


def _require_identity(store: Store, identity_id: int) -> None:
    if not _identity_known(store, identity_id):
        raise LinkError(
            f"Identiteit {identity_id} is onbekend. Haal de identiteiten op uit Gripp of voeg hem toe op id.",
            f"Identity {identity_id} is unknown. Discover the identities from Gripp or add it by id.",
            code="unknown_identity",
        )


def key_error(exc: ss_errors.SnelStartError) -> LinkError:
    """What a failed verification means for the person linking, in plain words."""
    if isinstance(exc, ss_errors.KoppelsleutelError):
        return LinkError(
            "SnelStart kent deze koppelsleutel niet (meer): hij is ingetrokken, vervangen door een nieuwe of niet "
            "helemaal gekopieerd. Koppel opnieuw via ‘Maatwerk key ophalen’, of kopieer de sleutel opnieuw uit "
            "SnelStart (Koppelingen → Maatwerk).",
            "SnelStart does not know this koppelsleutel (any more): it was revoked, replaced by a new one or not "
            "copied completely. Link again with ‘Maatwerk key ophalen’, or copy the key again from SnelStart "
            "(Koppelingen → Maatwerk).",
            code="rejected",
        )
    if isinstance(exc, ss_errors.SubscriptionKeyError):
        return LinkError(
            "SnelStart weigert de abonnementssleutel (subscription key) van deze koppeling; dat ligt niet aan de "
            "koppelsleutel. De test-sleutel verloopt na 90 dagen: vraag een nieuwe aan in het SnelStart-"
            "ontwikkelaarsportaal en stel SNELSTART_SUBSCRIPTION_KEY in.",
            "SnelStart refuses this link's subscription key; the koppelsleutel is not the problem. Test keys "
            "expire after 90 days: get a new one from the SnelStart developer portal and set "
            "SNELSTART_SUBSCRIPTION_KEY.",
            code="rejected",
        )
    if isinstance(exc, ss_errors.MissingScopeError):
        return LinkError(
            "De koppelsleutel werkt, maar het SnelStart-abonnement geeft geen toegang tot de bedrijfsgegevens "
            "(scope settings:read). Controleer of het abonnement koppelingen toestaat.",
            "The koppelsleutel works, but the SnelStart subscription gives no access to the company details "
            "(scope settings:read). Check that the subscription allows integrations.",
            code="rejected",
        )
    if isinstance(exc, ss_errors.TokenRejectedError):
        return LinkError(
            "SnelStart gaf een token af maar weigerde het daarna. Probeer het opnieuw; blijft dit gebeuren, "
            "koppel de administratie dan opnieuw.",
            "SnelStart issued a token and then refused it. Try again; if it keeps happening, link the "
            "administration again.",
            code="rejected",
        )
    if exc.transient:
        return LinkError(
            "SnelStart is nu niet bereikbaar of te druk; de koppelsleutel kon niet worden gecontroleerd. Probeer "
            "het over een paar minuten opnieuw.",
            "SnelStart is unreachable or busy right now; the koppelsleutel could not be checked. Try again in a "
            "few minutes.",
            code="unavailable",
        )
    return LinkError(
        f"SnelStart gaf een onverwacht antwoord bij het controleren van de koppelsleutel (HTTP {exc.status}).",
        f"SnelStart answered unexpectedly while checking the koppelsleutel (HTTP {exc.status}).",
        code="rejected",
    )


# ================================================================================================ verify


def verify_key(services: Services, koppelsleutel: str, *, for_identity: int | None = None) -> VerifiedKey:
    """Mint a token with the key and ask `companyInfo` which administration it opens. Nothing is stored.

    `other_identities` lists the identities (other than `for_identity`) already linked to that administration.
    """
    key = _clean_key(koppelsleutel)
    try:
        client = services.snelstart_for_key(key)
    except RuntimeError as exc:  # no subscription key configured
        raise LinkError(
            "Er is geen SnelStart-abonnementssleutel ingesteld (SNELSTART_SUBSCRIPTION_KEY).",
            "No SnelStart subscription key is configured (SNELSTART_SUBSCRIPTION_KEY).",
            code="rejected",
        ) from exc
    try:
        scopes = tuple(client.scopes())
        claimed = client.administration_id()
        info = client.company_info()
    except ss_errors.SnelStartError as exc:
        raise key_error(exc) from None  # the chain adds nothing a person can use
    finally:
        client.close()
    administration_id = str(info.get("administratieIdentifier") or claimed or "")
    if not administration_id:
        raise LinkError(
            "SnelStart noemde niet welke administratie deze koppelsleutel opent.",
            "SnelStart did not say which administration this koppelsleutel opens.",
            code="rejected",
        )
    name = str(info.get("administratieNaam") or info.get("bedrijfsnaam") or administration_id)
    others = tuple(
        i for i in setup_repo.links_to_administration(services.store, administration_id) if i != for_identity
    )
    return VerifiedKey(
        administration_id=administration_id,
        administration_name=name,
        company_name=str(info.get("bedrijfsnaam") or ""),
        scopes=scopes,
        missing_scopes=tuple(s for s in REQUIRED_SCOPES if s not in scopes),
        other_identities=others,
        key_hint=Vault.hint(key),
    )


def _shared_error(verified: VerifiedKey) -> LinkError:
    ids = ", ".join(str(i) for i in verified.other_identities)
    return LinkError(
        f"Administratie ‘{verified.administration_name}’ is al gekoppeld aan identiteit {ids}. Twee identiteiten "
        "in één administratie kan, maar bevestig dat het zo bedoeld is.",
        f"Administration ‘{verified.administration_name}’ is already linked to identity {ids}. Two identities "
        "in one administration is possible, but confirm that this is intended.",
        code="shared",
    )


def _save_link(services: Services, identity_id: int, key: str, verified: VerifiedKey, *, start_date: date | None,
               actor: Actor | str, how: str) -> None:
    """Caller holds a transaction. The link itself plus its audit event."""
    store = services.store
    previous = setup_repo.get_link(store, identity_id)
    setup_repo.save_link(
        store, identity_id=identity_id, administration_id=verified.administration_id,
        administration_name=verified.administration_name, koppelsleutel_enc=services.vault.encrypt(key),
        key_hint=verified.key_hint, start_date=start_date, actor=actor,
    )
    name = setup_repo.identity_name(store, identity_id)
    moved = previous is not None and previous.administration_id != verified.administration_id
    history.log_event(
        store, "link", level="warning" if moved else "info", identity_id=identity_id, actor=actor,
        data={"name": name, "administration": verified.administration_name,
              "previous_administration": previous.administration_name if moved and previous else None,
              "administration_id": verified.administration_id, "key_hint": verified.key_hint, "how": how,
                "start_date": start_date, "previous_administration_id": previous.administration_id
                if previous else None, "shared_with": list(verified.other_identities)},
    )


def _supersede_pending(store: Store, identity_id: int, keep: str | None = None) -> None:
    """Once the identity is linked, keys delivered for its other requests are no longer wanted: drop them."""
    store.execute(
        """UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ?
           WHERE identity_id = ? AND used_at IS NULL AND received_at IS NOT NULL AND reference_key <> ?""",
        [store.now(), SUPERSEDED, identity_id, keep or ""],
    )


# ================================================================================================ paste


def link_with_key(services: Services, identity_id: int, koppelsleutel: str, *, start_date: date | None = None,
                  actor: Actor | str, confirm_shared: bool = False) -> VerifiedKey:
    """The paste fallback: verify the key, then store it encrypted as the identity's link."""
    actor = authorize(actor, "link")
    store = services.store
    _require_identity(store, identity_id)
    if start_date is not None:
        check_start_date(services, start_date)
    key = _clean_key(koppelsleutel)
    verified = verify_key(services, key, for_identity=identity_id)
    if verified.other_identities and not confirm_shared:
        raise _shared_error(verified)
    with store.transaction():
        _save_link(services, identity_id, key, verified, start_date=start_date, actor=actor, how="paste")
        _supersede_pending(store, identity_id)
    services.forget_clients()
    return verified


def unlink(services: Services, identity_id: int, *, actor: Actor | str) -> bool:
    """Remove the identity's link (its bookings and history stay). False when it was not linked."""
    actor = authorize(actor, "link")
    store = services.store
    with store.transaction():
        link = setup_repo.get_link(store, identity_id)
        existed = setup_repo.delete_link(store, identity_id)
        if existed and link is not None:
            name = setup_repo.identity_name(store, identity_id)
            history.log_event(
                store, "unlinked", identity_id=identity_id, actor=actor,
                data={"name": name, "administration": link.administration_name,
                      "administration_id": link.administration_id, "key_hint": link.key_hint},
            )
    services.forget_clients()
    return existed


# ================================================================================================ identities


def add_identity(services: Services, identity_id: int, name: str = "", *, actor: Actor | str) -> str:
    """Add an identity by its Gripp id, verified against Gripp first. Gripp has no identity entity (see the
    reference): an identity is real when an invoice or a company carries it, and its name comes from there. One
    that has neither yet is refused with what to do, so a mistyped id never becomes a ghost identity."""
    from sync.gripp.filters import Filter

    actor = authorize(actor, "link")
    if isinstance(identity_id, bool) or not isinstance(identity_id, int) or not 0 < identity_id <= MAX_IDENTITY_ID:
        raise LinkError("Een identiteit-id is een positief geheel getal (zoals 1 of 12).",
                        "An identity id is a positive whole number (like 1 or 12).")
    if _identity_known(services.store, identity_id):  # adding it again would only log a second "added"
        name = setup_repo.identity_name(services.store, identity_id)
        raise LinkError(f"Identiteit {identity_id} ‘{name}’ bestaat al.",
                        f"Identity {identity_id} ‘{name}’ already exists.", code="exists")
    name = (name or "").strip()
    if len(name) > 200:
        raise LinkError("Een naam heeft hoogstens 200 tekens.", "A name has at most 200 characters.")
    try:
        client = services.gripp()
        answers = client.batch([
            client.get_call(entity, [Filter(f"{entity}.identity", "equals", identity_id)], first=0, max_results=1)
            for entity in ("invoice", "company")])
        rows = [row for answer in answers for row in ((answer.unwrap() or {}).get("rows") or [])]
    except Exception as exc:
        raise LinkError("Gripp is nu niet bereikbaar, dus de identiteit kon niet worden gecontroleerd; probeer het zo "
                        "opnieuw.", "Gripp cannot be reached right now, so the identity could not be verified; try "
                        "again shortly.", code="unavailable") from exc
    if not rows:
        raise LinkError(f"Gripp kent geen facturen of relaties van identiteit {identity_id}: controleer het id onder "
                        "Instellingen › Identiteiten & Sjablonen in Gripp.",
                        f"Gripp has no invoices or companies of identity {identity_id}: check the id under Settings › "
                        "Identities & Templates in Gripp.", code="unknown_identity")
    found = (rows[0].get("identity") or {}).get("searchname") if isinstance(rows[0].get("identity"), dict) else None
    name = str(found or name or f"#{identity_id}")
    store = services.store
    with store.transaction():
        setup_repo.upsert_identity(store, identity_id, name, source="manual")
        history.log_event(store, "identity", identity_id=identity_id, actor=actor,
                          data={"identity": identity_id, "name": name})
    services.ran()  # the support overview counts the identities
    return name


def remove_identity(services: Services, identity_id: int, *, actor: Actor | str) -> bool:
    """Remove an identity that is not linked (unlink it first). Its history stays in the log."""
    actor = authorize(actor, "link")
    store = services.store
    if setup_repo.get_link(store, identity_id) is not None:
        raise LinkError("Deze identiteit is gekoppeld; ontkoppel hem eerst.",
                        "This identity is linked; unlink it first.", code="linked")
    with store.transaction():
        name = setup_repo.identity_name(store, identity_id)
        removed = setup_repo.delete_identity(store, identity_id)
        if removed:
            history.log_event(store, "identity_removed", identity_id=identity_id, actor=actor,
                              data={"identity": identity_id, "name": name})
    services.ran()  # the support overview counts the identities
    return removed


def want_link(services: Services, identity_id: int, wanted: bool, *, actor: Actor | str) -> None:
    """Remember that support switched the link on (step 1) for this identity, for every session."""
    authorize(actor, "link")
    setup_repo.set_link_wanted(services.store, identity_id, wanted)


def link_wanted(services: Services, identity_id: int) -> bool:
    return setup_repo.link_wanted(services.store, identity_id)


def change_start_date(services: Services, identity_id: int, start_date: date, *, actor: Actor | str) -> None:
    """Book from another date on. Audited; invoices before it are left alone from the next run on."""
    actor = authorize(actor, "link")
    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise LinkError("Deze identiteit is nog niet gekoppeld.", "This identity is not linked yet.", code="invalid")
    check_start_date(services, start_date)
    if start_date == link.start_date:
        return
    with store.transaction():
        setup_repo.set_start_date(store, identity_id, start_date)
        history.log_event(store, "start_date", identity_id=identity_id, actor=actor,
                          data={"name": setup_repo.identity_name(store, identity_id), "previous": link.start_date,
                                "start_date": start_date})


@dataclass(frozen=True)
class StartDateSuggestion:
    start_date: date
    last_number: str | None  # the last invoice already booked in SnelStart
    last_date: date | None


def suggest_start_date(services: Services, identity_id: int, *, default: date) -> StartDateSuggestion:
    """The day after the last invoice of this identity already booked in SnelStart (read from SnelStart now;
    from the cache when SnelStart cannot be reached), else `default`."""
    from sync.jobs.refresh import refresh_open_items

    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is not None:
        try:
            refresh_open_items(store, services.snelstart(identity_id), link.administration_id)
        except Exception:
            log.info("Start date suggestion for identity %s from the cache", identity_id)
        # This identity's invoices when the Gripp cache knows them (an administration can serve several
        # identities), else every verkoopfactuur of the administration.
        row = store.one(
            """SELECT s.factuurnummer, s.factuur_datum FROM ss_open_items s
               WHERE s.administration_id = ? AND s.factuur_datum IS NOT NULL
                 AND (s.factuurnummer IN (SELECT number FROM gripp_invoices WHERE identity_id = ?)
                      OR NOT EXISTS (SELECT 1 FROM gripp_invoices WHERE identity_id = ?))
               ORDER BY s.factuur_datum DESC, s.factuurnummer DESC LIMIT 1""",
            [link.administration_id, identity_id, identity_id],
        )
        if row is not None:
            return StartDateSuggestion(row["factuur_datum"] + timedelta(days=1), row["factuurnummer"],
                                       row["factuur_datum"])
    return StartDateSuggestion(default, None, None)


def discover_identities(services: Services, *, actor: Actor | str) -> list[dict]:
    """Refresh the Gripp cache (identities come from invoice and company rows) and list every identity. Each one
    found for the first time goes into the event log with who asked."""
    actor = authorize(actor, "link")
    store = services.store
    known = {row["identity_id"] for row in setup_repo.identities(store)}
    try:
        refresh_gripp(store, services.gripp())
    except GrippError as exc:
        raise LinkError("Gripp is nu niet bereikbaar of weigert de API-sleutel; probeer het zo opnieuw.",
                        "Gripp cannot be reached right now or refuses the API key; try again shortly.",
                        code="unavailable") from exc
    found = setup_repo.identities(store)
    with store.transaction():
        for row in found:
            if row["identity_id"] not in known:
                history.log_event(store, "identity", identity_id=row["identity_id"], actor=actor,
                                  data={"identity": row["identity_id"], "name": row["name"]})
    services.ran()  # the support overview counts the identities
    return found


# ================================================================================================ activation


def start_activation(services: Services, identity_id: int, *, actor: Actor | str,
                     ttl: timedelta = ACTIVATION_TTL) -> ActivationRequest:
    """A single-use, expiring referenceKey for this identity and the SnelStart page to send the user to."""
    actor = authorize(actor, "link")
    store = services.store
    _require_identity(store, identity_id)
    # 256 bits: unguessable, URL-safe, far below SnelStart's 500. An added account's keys start with its key, so the
    # webhook (one address for the deployment) finds the account the request belongs to.
    reference_key = secrets.token_urlsafe(32)
    if services.account != DEFAULT_ACCOUNT:
        reference_key = f"{services.account}{ACCOUNT_SEPARATOR}{reference_key}"
    now = store.now()
    expires_at = now + ttl
    with store.transaction():
        store.execute(
            """INSERT INTO link_requests (reference_key, identity_id, created_at, expires_at, created_by)
               VALUES (?, ?, ?, ?, ?)""",
            [reference_key, identity_id, now, expires_at, actor],
        )
        name = setup_repo.identity_name(store, identity_id)
        history.log_event(
            store, "link_started", identity_id=identity_id, actor=actor,
            data={"name": name, "expires_at": expires_at},
        )
    settings = services.settings
    account = services.account if services.account != DEFAULT_ACCOUNT else None
    url = activation_url(settings, reference_key, success_url(settings, identity_id, reference_key, account))
    return ActivationRequest(reference_key, identity_id, url, expires_at)


_TIMES = ("created_at", "expires_at", "used_at", "received_at")
# Timestamps travel as epoch microseconds: DuckDB hands TIMESTAMPTZ to Python only through pytz.
_REQUEST_COLUMNS = ", ".join(
    ["reference_key", "identity_id", "outcome", "key_enc", "administration_id", "administration_name", "action",
     *(f"epoch_us({name}) AS {name}" for name in _TIMES)]
)


def _from_row(row: dict | None) -> dict | None:
    if row is not None:
        for name in _TIMES:
            if row[name] is not None:
                row[name] = datetime.fromtimestamp(row[name] / 1_000_000, tz=AMSTERDAM)
    return row


def _request(store: Store, reference_key: str) -> dict | None:
    return _from_row(store.one(f"SELECT {_REQUEST_COLUMNS} FROM link_requests WHERE reference_key = ?",
                               [reference_key]))


def _state(row: dict) -> str:
    if row["used_at"] is not None:
        return "used"
    if row["received_at"] is not None:
        return "pending"
    return "fresh"


def _expired(row: dict, now: datetime) -> bool:
    return row["expires_at"] <= now


ACCOUNT_SEPARATOR = "."  # never in token_urlsafe's alphabet, never in an account key


def account_of_webhook(payload: bytes) -> str | None:
    """The account a webhook's ReferenceKey names (None: the default account's, or unreadable — `handle_webhook`
    then answers as it does for any unknown reference)."""
    try:
        fields = json_limits.loads(payload)
    except ValueError:
        return None
    if not isinstance(fields, dict):
        return None
    reference = next((v for k, v in fields.items() if str(k).lower() == "referencekey"), None)
    if not isinstance(reference, str) or ACCOUNT_SEPARATOR not in reference[:MAX_REFERENCE_KEY]:
        return None
    return reference.split(ACCOUNT_SEPARATOR, 1)[0]


def _parse_webhook(payload: Any) -> tuple[str, str, str] | WebhookResult:
    """(KoppelSleutel, ActionType, ReferenceKey), or the 400 that refuses it. Names match case-insensitively
    (SnelStart is .NET); values must be strings."""
    if isinstance(payload, bytes | bytearray | str):
        if len(payload) > MAX_WEBHOOK_BYTES:
            return _refuse(413, "too_large", "The body is too large.")
        try:
            payload = json_limits.loads(payload)  # nesting bounded: SnelStart sends one flat object
        except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
            return _refuse(400, "malformed", "The body is not JSON.")
    if not isinstance(payload, dict):
        return _refuse(400, "malformed", "The body must be a JSON object.")
    fields = {str(k).lower(): v for k, v in payload.items()}
    key, action, reference = (fields.get(n) for n in ("koppelsleutel", "actiontype", "referencekey"))
    if not all(isinstance(v, str) for v in (key, action, reference)):
        return _refuse(400, "malformed", "KoppelSleutel, ActionType and ReferenceKey must all be strings.")
    assert isinstance(key, str) and isinstance(action, str) and isinstance(reference, str)
    if action not in ACTIONS:
        return _refuse(400, "malformed", f"ActionType must be one of {', '.join(ACTIONS)}.")
    if not reference or len(reference) > MAX_REFERENCE_KEY:
        return _refuse(400, "malformed", "ReferenceKey is empty or too long.")
    try:
        key = _clean_key(key)
    except LinkError:
        return _refuse(400, "malformed", "KoppelSleutel is empty or not a key.")
    return key, action, reference


def _refuse(status: int, error: str, message: str) -> WebhookResult:
    return WebhookResult(status, {"error": error, "message": message})


def _note_refusal(services: Services, row: dict | None, status: int, error: str, *, words: str | None = None,
                  reason: dict[str, str] | None = None) -> WebhookResult:
    """A refused delivery for a request we know is worth a line in the identity's log: the user is waiting for
    it. Unknown references are only logged for the operator (never with the key)."""
    log.warning("SnelStart webhook refused (%s %s)", status, error)
    if row is not None:
        history.log_event(services.store, "webhook_refused", identity_id=row["identity_id"], actor=WEBHOOK_ACTOR,
                          data={"status": status, "error": words or error, "reason": reason})
    return _refuse(status, error, render({"kind": "webhook_refused",
                                          "detail_json": json.dumps({"error": words or error, "reason": reason})},
                                         "en"))


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
    parsed = _parse_webhook(payload)
    if isinstance(parsed, WebhookResult):
        log.warning("SnelStart webhook refused (%s %s)", parsed.status, parsed.body.get("error"))
        return parsed
    key, action, reference = parsed
    store = services.store
    row = _request(store, reference)
    if row is None:
        log.warning("SnelStart webhook refused (404 unknown referenceKey)")
        return _refuse(404, "unknown_reference", "This referenceKey is unknown.")
    if action == "Delete":
        return _webhook_delete(services, row, key)

    state = _state(row)
    now = store.now()
    if state == "fresh" and _expired(row, now):
        return _note_refusal(services, row, 410, "expired")
    link = setup_repo.get_link(store, row["identity_id"])
    if action == "Create" and state != "fresh":
        return _note_refusal(services, row, 409, "replayed", words="second_key")
    if action == "Regenerate" and state == "used" and not _made_current_link(row, link):
        return _note_refusal(services, row, 409, "replayed", words="stale_request")

    try:
        verified = verify_key(services, key, for_identity=row["identity_id"])
    except LinkError as exc:
        if exc.code == "unavailable":  # SnelStart will not send it again: keep it, verify when the user confirms
            return _keep_unverified(services, row, state, key, action)
        return _note_refusal(services, row, 422, "key_not_verified", reason={"nl": exc.nl, "en": exc.en})

    with _requests_lock:
        current = _request(store, reference)
        if current is None or _state(current) != state or current["key_enc"] != row["key_enc"]:
            return _note_refusal(services, row, 409, "replayed")
        link = setup_repo.get_link(store, row["identity_id"])
        same_admin_link = link is not None and link.administration_id == verified.administration_id
        if action == "Regenerate" and (state == "used" or (state == "fresh" and same_admin_link)):
            return _regenerate_link(services, current, link, key, verified)
        if action == "Regenerate" and state == "pending":
            if current["administration_id"] not in (None, verified.administration_id):  # None: not yet verified
                return _note_refusal(services, row, 409, "other_administration")
            if services.vault.decrypt(current["key_enc"]) == key:
                return _note_refusal(services, row, 409, "replayed")
        with store.transaction():
            store.execute(
                """UPDATE link_requests SET key_enc = ?, administration_id = ?, administration_name = ?,
                          action = ?, received_at = ?, outcome = ? WHERE reference_key = ?""",
                [services.vault.encrypt(key), verified.administration_id, verified.administration_name, action,
                 store.now(), RECEIVED, reference],
            )
            name = setup_repo.identity_name(store, row["identity_id"])
            history.log_event(
                store, "key_delivered", identity_id=row["identity_id"], actor=WEBHOOK_ACTOR,
                data={"key_hint": verified.key_hint, "administration": verified.administration_name, "name": name,
                      "administration_id": verified.administration_id, "action": action},
            )
    return WebhookResult(200, {"status": RECEIVED})


def _keep_unverified(services: Services, row: dict, state: str, key: str, action: str) -> WebhookResult:
    """The key came for a valid request but SnelStart cannot be asked about it now. SnelStart does not deliver
    twice, so it is kept encrypted on the request, pending, without an administration; `confirm_activation`
    verifies it when the user saves."""
    store = services.store
    with _requests_lock:
        current = _request(store, row["reference_key"])
        if current is None or _state(current) != state or current["key_enc"] != row["key_enc"]:
            return _note_refusal(services, row, 409, "replayed")
        hint = Vault.hint(key)
        with store.transaction():
            store.execute(
                """UPDATE link_requests SET key_enc = ?, administration_id = NULL, administration_name = NULL,
                          action = ?, received_at = ?, used_at = NULL, outcome = ? WHERE reference_key = ?""",
                [services.vault.encrypt(key), action, store.now(), UNVERIFIED, row["reference_key"]],
            )
            name = setup_repo.identity_name(store, row["identity_id"])
            history.log_event(store, "key_delivered_unverified", identity_id=row["identity_id"], actor=WEBHOOK_ACTOR,
                              data={"key_hint": hint, "name": name, "action": action})
    return WebhookResult(200, {"status": UNVERIFIED})


def _made_current_link(row: dict, link: setup_repo.Link | None) -> bool:
    """Was the identity's current link made (or last regenerated) from this request?"""
    return (link is not None and row["outcome"] in (LINKED, REGENERATED)
            and row["administration_id"] == link.administration_id)


def _regenerate_link(services: Services, row: dict, link: setup_repo.Link | None, key: str,
                     verified: VerifiedKey) -> WebhookResult:
    """Caller holds `_requests_lock`. Replace the linked key, when the new one opens the same administration."""
    store = services.store
    if link is None or link.administration_id != verified.administration_id:
        return _note_refusal(services, row, 409, "other_administration")
    if services.vault.decrypt(link.koppelsleutel_enc) == key:
        return _note_refusal(services, row, 409, "replayed")
    with store.transaction():
        store.execute(
            "UPDATE links SET koppelsleutel_enc = ?, key_hint = ?, health = 'ok', health_detail = NULL "
            "WHERE identity_id = ?",
            [services.vault.encrypt(key), verified.key_hint, link.identity_id],
        )
        store.execute(
            """UPDATE link_requests SET key_enc = NULL, administration_id = ?, administration_name = ?, action = ?,
                      received_at = ?, used_at = coalesce(used_at, ?), outcome = ? WHERE reference_key = ?""",
            [verified.administration_id, verified.administration_name, "Regenerate", store.now(),
             store.now(), REGENERATED, row["reference_key"]],
        )
        name = setup_repo.identity_name(store, link.identity_id)
        history.log_event(
            store, "key_replaced", identity_id=link.identity_id, actor=WEBHOOK_ACTOR,
            data={"name": name, "key_hint": verified.key_hint, "previous_key_hint": link.key_hint,
                  "administration_id": verified.administration_id},
        )
    services.forget_clients()
    return WebhookResult(200, {"status": REGENERATED})


def _webhook_delete(services: Services, row: dict, key: str) -> WebhookResult:
    """The user removed the link in SnelStart. Only the key SnelStart gave us for this request can remove it."""
    store = services.store
    with _requests_lock:
        current = _request(store, row["reference_key"]) or row
        identity_id = current["identity_id"]
        if _state(current) == "pending" and services.vault.decrypt(current["key_enc"]) == key:
            with store.transaction():
                store.execute(
                    "UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ? WHERE reference_key = ?",
                    [store.now(), DELETED, current["reference_key"]],
                )
                history.log_event(store, "link_removed_in_snelstart", identity_id=identity_id, actor=WEBHOOK_ACTOR)
            return WebhookResult(200, {"status": DELETED})
        link = setup_repo.get_link(store, identity_id)
        if link is None or services.vault.decrypt(link.koppelsleutel_enc) != key:
            return _note_refusal(services, current, 409, "not_linked")
        with store.transaction():
            unlink(services, identity_id, actor=WEBHOOK_ACTOR)
            store.execute(
                "UPDATE link_requests SET used_at = coalesce(used_at, ?), outcome = ? WHERE reference_key = ?",
                [store.now(), DELETED, current["reference_key"]],
            )
    services.forget_clients()
    return WebhookResult(200, {"status": DELETED})


def return_state(services: Services, identity_id: int, reference_key: object) -> str:
    """What a return link from SnelStart (`?ref=`) stands for now: `waiting` (the key has not arrived yet — it
    may still), `pending` (arrived, not saved), `used` (saved, replaced or expired: an old link from the back button
    or a bookmark) or `unknown` (not a request of this identity)."""
    row = _request(services.store, reference_key) if isinstance(reference_key, str) and reference_key else None
    if row is None or row["identity_id"] != identity_id:
        return "unknown"
    state = _state(row)
    if state != "used" and _expired(row, services.store.now()):
        return "used"
    return {"fresh": "waiting"}.get(state, state)


def pending_activation(services: Services, identity_id: int) -> dict | None:
    """The latest key SnelStart delivered for the identity that the user has not saved yet."""
    row = _from_row(services.store.one(
        f"""SELECT {_REQUEST_COLUMNS} FROM link_requests WHERE identity_id = ? AND key_enc IS NOT NULL
              AND received_at IS NOT NULL AND used_at IS NULL AND expires_at > ? ORDER BY received_at DESC LIMIT 1""",
        [identity_id, services.store.now()],
    ))
    if row is None:
        return None
    others = tuple(i for i in setup_repo.links_to_administration(services.store, row["administration_id"])
                   if i != identity_id)
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
    }


def confirm_activation(services: Services, identity_id: int, reference_key: str, *, start_date: date | None = None,
                       actor: Actor | str, confirm_shared: bool = False) -> VerifiedKey:
    """The user's "Opslaan": the delivered key becomes the identity's link (once)."""
    actor = authorize(actor, "link")
    store = services.store
    row = _request(store, reference_key) if isinstance(reference_key, str) else None
    if row is None or row["identity_id"] != identity_id or _state(row) != "pending" or not row["key_enc"]:
        raise LinkError(
            "Er staat voor deze identiteit geen ontvangen koppelsleutel klaar (al opgeslagen, of SnelStart heeft "
            "hem niet afgeleverd). Start het koppelen opnieuw.",
            "No delivered koppelsleutel is waiting for this identity (already saved, or SnelStart did not deliver "
            "it). Start linking again.",
            code="not_pending",
        )
    if start_date is not None:
        check_start_date(services, start_date)
    if _expired(row, store.now()):  # a delivered key is only good for as long as its request
        with _requests_lock, store.transaction():
            store.execute("UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ? WHERE reference_key = ? "
                          "AND used_at IS NULL", [store.now(), EXPIRED, reference_key])
        raise LinkError(
            "Dit koppelverzoek is verlopen; de ontvangen koppelsleutel is niet opgeslagen. Start het koppelen opnieuw "
            "met ‘Maatwerk key ophalen’.",
            "This link request has expired; the delivered koppelsleutel was not saved. Start linking again with "
            "‘Maatwerk key ophalen’.",
            code="expired",
        )
    key = services.vault.decrypt(row["key_enc"])
    verified = verify_key(services, key, for_identity=identity_id)
    if verified.other_identities and not confirm_shared:
        raise _shared_error(verified)
    with _requests_lock:
        current = _request(store, reference_key)
        if current is None or _state(current) != "pending" or current["key_enc"] != row["key_enc"]:
            raise LinkError("Deze koppelsleutel is intussen al verwerkt.", "This koppelsleutel was handled meanwhile.",
                            code="not_pending")
        with store.transaction():
            _save_link(services, identity_id, key, verified, start_date=start_date, actor=actor, how="activation")
            store.execute(
                "UPDATE link_requests SET key_enc = NULL, used_at = ?, outcome = ? WHERE reference_key = ?",
                [store.now(), LINKED, reference_key],
            )
            _supersede_pending(store, identity_id, keep=reference_key)
    services.forget_clients()
    return verified
