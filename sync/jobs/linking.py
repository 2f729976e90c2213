"""Linking a Gripp identity to one SnelStart administration: verifying a koppelsleutel, saving and removing a link,
the date it books from and the largest invoice total it books (its ceiling).

A key reaches us in one of two ways (the seed's): SnelStart's activation flow (`sync.jobs.activation`, "Maatwerk
key ophalen") or pasted from SnelStart's "Maatwerk" tile (`link_with_key`). Either way the key is verified first (a
token, then `companyInfo`) so the user sees which administration it opens before anything is saved. One
administration per identity, and one link per administration: an administration another identity of any account
links already (the deployment's catalog knows every account's links) is refused, naming that account and identity,
unless support confirms it on purpose — recorded as an event with the person's name; both links then show it as a
warning (`shared_administrations`).
Keys are stored encrypted (`sync.core.vault`), shown as `…ab12`, and never logged, echoed or put in an event.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind, Level, other_link
from sync.core.explained import Explained
from sync.core.money import has_sub_cents
from sync.core.vault import Vault
from sync.core.words import N_, Msg
from sync.jobs.services import Services
from sync.snelstart import constants as ss_constants
from sync.snelstart import errors as ss_errors
from sync.snelstart.limits import AMOUNT_MAX
from sync.store import cache, check_results, history, link_requests
from sync.store import setup as setup_repo
from sync.store.catalog import AdministrationLink
from sync.store.db import Store

log = logging.getLogger(__name__)

# What the link needs from the token's scopes. documenten:read too: a booking that is already in SnelStart is
# adopted, and its attachments are looked up before the PDF is uploaded again.
REQUIRED_SCOPES: tuple[str, ...] = ss_constants.REQUIRED_SCOPES
MAX_KEY_LENGTH = 4096
LATEST_START = timedelta(days=366)  # a start date further ahead books nothing for over a year: a typing slip


class LinkError(Explained):
    """A link could not be made or changed: `message` says why, `code` is for callers:
    invalid | rejected | unavailable | shared | unknown_identity | not_pending | expired | exists | linked."""


def link_error(key: str, /, *, code: str = "invalid", **values: Any) -> LinkError:
    return LinkError(Msg(key, **values), code=code)


@dataclass(frozen=True)
class VerifiedKey:
    administration_id: str
    administration_name: str
    company_name: str
    scopes: tuple[str, ...]
    missing_scopes: tuple[str, ...]
    other_identities: tuple[int, ...]  # identities of this account already linked to this administration
    key_hint: str
    shared_with: tuple[AdministrationLink, ...] = ()  # every other link to it, of this account or another

    @property
    def allows_integration(self) -> bool:
        return not self.missing_scopes


def clean_key(koppelsleutel: Any) -> str:
    """A pasted key loses the spaces and line breaks copying adds; anything else odd is refused."""
    if not isinstance(koppelsleutel, str):
        raise link_error(N_("link.error.key_not_text"))
    key = "".join(koppelsleutel.split())
    if not key:
        raise link_error(N_("link.error.key_empty"))
    if len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise link_error(N_("link.error.key_malformed"))
    return key


def check_start_date(services: Services, start_date: object) -> date:
    """A start date the link can book from: a date, at most about a year after today (the sandbox's today in
    sandbox mode). A date years ahead would make every run book nothing, silently, so it is refused."""
    if not isinstance(start_date, date):
        raise link_error(N_("link.error.start_not_a_date"))
    today = services.today()
    if start_date > today + LATEST_START:
        raise link_error(N_("link.error.start_too_far"), start=start_date, today=today)
    return start_date


def require_identity(store: Store, identity_id: int) -> None:
    if not setup_repo.identity_known(store, identity_id):
        raise link_error(N_("link.error.unknown_identity"), code="unknown_identity", identity=str(identity_id))


# What a failed verification means for the person linking: the first row whose error type matches, most specific
# first. A transient error (busy, unreachable) is "unavailable"; anything else unforeseen names its HTTP status.
KEY_ERRORS: tuple[tuple[type[ss_errors.SnelStartError], str, str], ...] = (
    (ss_errors.KoppelsleutelError, N_("link.error.key_refused"), "rejected"),
    (ss_errors.SubscriptionKeyError, N_("link.error.subscription_refused"), "rejected"),
    (ss_errors.MissingScopeError, N_("link.error.no_company_scope"), "rejected"),
    (ss_errors.TokenRejectedError, N_("link.error.token_refused"), "rejected"),
)


def key_error(exc: ss_errors.SnelStartError) -> LinkError:
    for kind, key, code in KEY_ERRORS:
        if isinstance(exc, kind):
            return link_error(key, code=code)
    if exc.transient:
        return link_error(N_("link.error.snelstart_unavailable"), code="unavailable")
    return link_error(N_("link.error.snelstart_unexpected"), code="rejected", status=str(exc.status))


def verify_key(services: Services, koppelsleutel: str, *, for_identity: int | None = None) -> VerifiedKey:
    """Mint a token with the key and ask `companyInfo` which administration it opens. Nothing is stored.

    `other_identities` lists this account's identities (other than `for_identity`) already linked to that
    administration; `shared_with` every other link to it, of any account.
    """
    key = clean_key(koppelsleutel)
    try:
        client = services.snelstart_for_key(key)
    except RuntimeError as exc:  # no subscription key configured
        raise link_error(N_("link.error.no_subscription_key"), code="rejected") from exc
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
        raise link_error(N_("link.error.no_administration"), code="rejected")
    name = str(info.get("administratieNaam") or info.get("bedrijfsnaam") or administration_id)
    shared = links_beside(services, administration_id, for_identity)
    others = tuple(link.identity_id for link in shared if link.account_key == services.account)
    return VerifiedKey(
        administration_id=administration_id,
        administration_name=name,
        company_name=str(info.get("bedrijfsnaam") or ""),
        scopes=scopes,
        missing_scopes=tuple(s for s in REQUIRED_SCOPES if s not in scopes),
        other_identities=others,
        key_hint=Vault.hint(key),
        shared_with=shared,
    )


# ================================================================================================ one administration


def links_to(services: Services, administration_id: str) -> list[AdministrationLink]:
    """Every link to the administration: this account's from its own file (the truth, also without a catalog),
    every other account's from the deployment's catalog, with support's confirmations where it keeps them."""
    catalog = services.catalog
    known = catalog.links_to(administration_id) if catalog is not None else []
    account = catalog.get(services.account) if catalog is not None else None
    account_name = account.name if account is not None else services.account
    confirmed = {link.identity_id: link for link in known if link.account_key == services.account}
    mine = []
    for link in setup_repo.known_links(services.store):
        if link.administration_id != administration_id:
            continue
        kept = confirmed.get(link.identity_id)
        mine.append(AdministrationLink(services.account, account_name, link.identity_id, link.identity_name,
                                       administration_id, link.administration_name,
                                       kept.confirmed_by if kept else None, kept.confirmed_at if kept else None))
    return mine + [link for link in known if link.account_key != services.account]


def links_beside(services: Services, administration_id: str,
                 identity_id: int | None) -> tuple[AdministrationLink, ...]:
    """Every other link to the administration than this account's `identity_id`."""
    return tuple(link for link in links_to(services, administration_id)
                 if not (link.account_key == services.account and link.identity_id == identity_id))


def other_links(links: tuple[AdministrationLink, ...] | list[AdministrationLink]) -> list[Msg]:
    return [other_link(asdict(link)) for link in links]


def shared_error(verified: VerifiedKey) -> LinkError:
    """Refused: the administration is linked already, named by account and identity."""
    return link_error(N_("link.error.shared"), code="shared", administration=verified.administration_name,
                      links=other_links(verified.shared_with))


def shared_confirmation(services: Services, identity_id: int, verified: VerifiedKey, *, actor: str,
                        confirm_shared: bool, confirmed_by: str | None) -> str | None:
    """One administration, one link: a link beside another is refused (`shared_error`) unless support confirmed it
    on purpose — `confirmed_by` names who (the command line's flag), else `confirm_shared` says the actor did. Who
    confirmed; None when there was nothing to confirm. The identity's own administration again (a new key for it)
    is no new sharing: it was alone, or confirmed then."""
    if not verified.shared_with:
        return None
    current = setup_repo.get_link(services.store, identity_id)
    if current is not None and current.administration_id == verified.administration_id:
        return None
    who = (confirmed_by or "").strip() or (actor if confirm_shared else "")
    if not who:
        raise shared_error(verified)
    return who


@dataclass(frozen=True)
class SharedAdministration:
    """A link whose administration other links link too: the warning both sides show."""

    identity_id: int
    administration_name: str
    others: tuple[AdministrationLink, ...]
    confirmed_by: str | None  # who confirmed it on purpose (on either side), None: nobody did (an old link)
    confirmed_at: datetime | None

    @property
    def message(self) -> Msg:
        confirmed: Msg = (Msg(N_("link.shared.confirmed"), by=self.confirmed_by, at=self.confirmed_at)
                          if self.confirmed_by else Msg(N_("link.shared.unconfirmed")))
        return Msg(N_("link.shared"), administration=self.administration_name, links=other_links(self.others),
                   confirmed=confirmed)


def shared_administrations(services: Services) -> dict[int, SharedAdministration]:
    """Per linked identity of this account whose administration is linked elsewhere too (this account or any
    other): what its warning says. Read when shown, so an unlink on the other side clears it at once."""
    found: dict[int, SharedAdministration] = {}
    for link in setup_repo.known_links(services.store):
        group = links_to(services, link.administration_id)
        others = tuple(o for o in group if not (o.account_key == services.account
                                                and o.identity_id == link.identity_id))
        if not others:
            continue
        confirmed = [o for o in group if o.confirmed_by]
        last = max(confirmed, key=lambda o: str(o.confirmed_at or "")) if confirmed else None
        found[link.identity_id] = SharedAdministration(
            link.identity_id, link.administration_name, others, last.confirmed_by if last else None,
            last.confirmed_at if last else None)
    return found


def know_links(services: Services, *, confirmed: dict[int, str] | None = None) -> None:
    """Tell the deployment's catalog this account's links as they are now (after a link, an unlink, a removed
    identity); `confirmed`: who confirmed a link made just now beside another."""
    if services.catalog is not None:
        services.catalog.know_links(services.account, setup_repo.known_links(services.store), confirmed=confirmed)


def save_link(services: Services, identity_id: int, key: str, verified: VerifiedKey, *, start_date: date | None,
              actor: str, how: str, confirmed_by: str | None = None) -> None:
    """Caller holds a transaction (and has authorized `actor`, the name recorded). The link itself plus its audit
    event; `confirmed_by`: support confirmed linking it beside the other links on purpose (its own event). The
    caller tells the catalog after the transaction (`know_links`)."""
    store = services.store
    previous = setup_repo.get_link(store, identity_id)
    setup_repo.save_link(
        store, identity_id=identity_id, administration_id=verified.administration_id,
        administration_name=verified.administration_name, koppelsleutel_enc=services.vault.encrypt(key),
        key_hint=verified.key_hint, start_date=start_date, actor=actor,
    )
    check_results.forget(store, identity_id)  # the new link is not checked yet (`checks.check_new_link`, after)
    name = setup_repo.identity_name(store, identity_id)
    moved = previous is not None and previous.administration_id != verified.administration_id
    history.log_event(
        store, EventKind.LINK, level=Level.WARNING if moved else Level.INFO, identity_id=identity_id, actor=actor,
        data={"name": name, "administration": verified.administration_name,
              "previous_administration": previous.administration_name if moved and previous else None,
              "administration_id": verified.administration_id, "key_hint": verified.key_hint, "how": how,
              "start_date": start_date,
              "previous_administration_id": previous.administration_id if previous else None,
              "shared_with": list(verified.other_identities)},
    )
    if confirmed_by is not None:
        history.log_event(
            store, EventKind.LINK_SHARED, identity_id=identity_id, actor=confirmed_by,
            data={"name": name, "administration": verified.administration_name,
                  "administration_id": verified.administration_id, "by": confirmed_by,
                  "links": [{"account_key": o.account_key, "account_name": o.account_name,
                             "identity_id": o.identity_id, "identity_name": o.identity_name}
                            for o in verified.shared_with]},
        )


def link_with_key(services: Services, identity_id: int, koppelsleutel: str, *, start_date: date | None = None,
                  actor: Actor | str, confirm_shared: bool = False, confirmed_by: str | None = None) -> VerifiedKey:
    """The paste fallback: verify the key, then store it encrypted as the identity's link. An administration
    linked elsewhere already needs `confirm_shared` (the actor confirms) or `confirmed_by` (that person did)."""
    actor = authorize(actor, "link")
    store = services.store
    require_identity(store, identity_id)
    if start_date is not None:
        check_start_date(services, start_date)
    key = clean_key(koppelsleutel)
    verified = verify_key(services, key, for_identity=identity_id)
    who = shared_confirmation(services, identity_id, verified, actor=actor, confirm_shared=confirm_shared,
                              confirmed_by=confirmed_by)
    with store.transaction():
        save_link(services, identity_id, key, verified, start_date=start_date, actor=actor, how="paste",
                  confirmed_by=who)
        link_requests.supersede_pending(store, identity_id)
    know_links(services, confirmed={identity_id: who} if who else None)
    services.forget_clients()
    services.linked(identity_id)  # its setup checks, so its health tells the truth from the start
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
                store, EventKind.UNLINKED, identity_id=identity_id, actor=actor,
                data={"name": name, "administration": link.administration_name,
                      "administration_id": link.administration_id, "key_hint": link.key_hint},
            )
    know_links(services)  # the other side's warning goes with it
    services.forget_clients()
    return existed


def want_link(services: Services, identity_id: int, wanted: bool, *, actor: Actor | str) -> None:
    """Remember that support switched the link on (step 1) for this identity, for every session."""
    authorize(actor, "link")
    setup_repo.set_link_wanted(services.store, identity_id, wanted)


def link_wanted(services: Services, identity_id: int) -> bool:
    return setup_repo.link_wanted(services.store, identity_id)


# ================================================================================================ start date


def change_start_date(services: Services, identity_id: int, start_date: date, *, actor: Actor | str) -> None:
    """Book from another date on. Audited; invoices before it are left alone from the next run on."""
    actor = authorize(actor, "link")
    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        raise link_error(N_("link.error.not_linked"))
    check_start_date(services, start_date)
    if start_date == link.start_date:
        return
    with store.transaction():
        setup_repo.set_start_date(store, identity_id, start_date)
        history.log_event(store, EventKind.START_DATE, identity_id=identity_id, actor=actor,
                          data={"name": setup_repo.identity_name(store, identity_id), "previous": link.start_date,
                                "start_date": start_date})


# ================================================================================================ ceiling


def check_ceiling(amount: object) -> Decimal:
    """A ceiling on an invoice's total: a positive amount in whole cents, at most what SnelStart's amounts hold
    (above that SnelStart's own limit blocks the invoice anyway, so a higher ceiling would only mislead)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or has_sub_cents(amount):
        raise link_error(N_("link.error.ceiling_not_an_amount"), amount=str(amount))
    if amount > AMOUNT_MAX:
        raise link_error(N_("link.error.ceiling_too_high"), amount=amount, max=AMOUNT_MAX)
    return amount.quantize(Decimal("0.01"))


def change_ceiling(services: Services, identity_id: int, amount: Decimal | None, *, actor: Actor | str) -> None:
    """The largest invoice total (either sign) booked for the identity without a person raising it; None: the
    deployment's default (SYNC_MAX_INVOICE_TOTAL). Audited; the next run, dry run and checks judge by it."""
    actor = authorize(actor, "link")
    store = services.store
    ceiling = None if amount is None else check_ceiling(amount)
    with store.transaction():
        link = setup_repo.get_link(store, identity_id)
        if link is None:
            raise link_error(N_("link.error.not_linked"))
        if ceiling == link.max_invoice_total:
            return
        setup_repo.set_max_invoice_total(store, identity_id, ceiling)
        history.log_event(store, EventKind.CEILING, identity_id=identity_id, actor=actor,
                          data={"name": setup_repo.identity_name(store, identity_id),
                                "previous": link.max_invoice_total, "ceiling": ceiling,
                                "default": services.settings.max_invoice_total})


@dataclass(frozen=True)
class StartDateSuggestion:
    start_date: date
    last_number: str | None  # the last invoice already booked in SnelStart
    last_date: date | None
    snelstart_read: bool = True  # False: SnelStart could not be read now nor ever before (nothing known of it)


def suggest_start_date(services: Services, identity_id: int, *, default: date) -> StartDateSuggestion:
    """The day after the last invoice of this identity already booked in SnelStart (read from SnelStart now;
    from the cache when SnelStart cannot be reached), else `default` — saying whether SnelStart was read at all
    (no invoice there is not the same as SnelStart unread)."""
    from sync.jobs.refresh import refresh_open_items

    store = services.store
    link = setup_repo.get_link(store, identity_id)
    if link is None:
        return StartDateSuggestion(default, None, None)
    read = True
    try:
        refresh_open_items(store, services.snelstart(identity_id), link.administration_id)
    except Exception:
        log.info("Start date suggestion for identity %s from the cache", identity_id)
        read = cache.open_items_read_at(store, link.administration_id) is not None
    row = cache.last_invoice_in_snelstart(store, link.administration_id, identity_id)
    if row is not None:
        return StartDateSuggestion(row["factuur_datum"] + timedelta(days=1), row["factuurnummer"],
                                   row["factuur_datum"])
    return StartDateSuggestion(default, None, None, snelstart_read=read)
