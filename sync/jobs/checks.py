"""The setup checks per identity: what support walks through with a customer before the first sync.

Each check is pass / warning / fail, with a plain explanation and the fix in Dutch and English:

1. gripp          the Gripp API token works and may read invoices and companies
2. subscription   the SnelStart subscription key works
3. koppelsleutel  the koppelsleutel gives a token and `companyInfo` names the administration
4. integrations   the token's scopes cover what the link needs (the subscription allows integrations)
5. vat            every Gripp VAT rate used since the start date is mapped, at SnelStart's percentage on every
                  invoice date it is used (SnelStart's `btwtarieven` history)
6. ledgers        every Gripp ledger used maps to a grootboek that exists, is active, is a sales account and
                  accepts the VAT kinds booked on it (so BOE-0069/0081/0082 never happen at push time)
7. debtors        Gripp customers ↔ SnelStart relaties on every key: matched, to be created, contradictions
8. start_date     a start date is set
9. dry_run        the first sync, dry: N invoices would be booked, M blocked (with reasons), K payments back

Checks 5 and 6 reuse the pure mapping's validation (`check_invoice` per invoice) and group its problems by what
the fix is about (`Problem.subject`), so the rules live in one place. A broken link (revoked key, refused
subscription key) never raises: the checks that need SnelStart say they were skipped, or work from the last
fetched reference data and say so.

Decision on "may create payments" (check 1): Gripp has no dry-run or rights endpoint, and the only proof is a real
`payment.create` in the customer's books, which a check must not make. So check 1 proves the reads, and says
that payment registration shows at the first real payment (a refusal there is an error in the sync log with the
fix). When this link has registered a payment before, that is proof and the check says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import httpx

from sync.auth.access import Actor, require
from sync.core import fmt
from sync.core.vault import VaultError
from sync.gripp import errors as gripp_errors
from sync.jobs.inputs import customer_inputs, invoice_input, invoices_in_scope, mapping_context
from sync.jobs.linking import REQUIRED_SCOPES, key_error
from sync.jobs.refresh import reference_age, refresh_gripp, refresh_reference
from sync.jobs.services import Services
from sync.mapping import check_invoice, line_net
from sync.mapping.customers import CREATED, NEW, PINNED, RELATIECODE
from sync.mapping.types import MappingContext, Problem
from sync.snelstart import errors as ss_errors
from sync.snelstart.client import SnelStartClient
from sync.snelstart.constants import SUBSCRIPTION_KEY_HEADER
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.store.setup import Link

log = logging.getLogger(__name__)

Status = Literal["pass", "warning", "fail"]
PASS, WARNING, FAIL = "pass", "warning", "fail"

TITLES: dict[str, tuple[str, str]] = {
    "gripp": ("Gripp API-sleutel", "Gripp API token"),
    "subscription": ("SnelStart-abonnementssleutel", "SnelStart subscription key"),
    "koppelsleutel": ("Koppelsleutel en administratie", "Koppelsleutel and administration"),
    "integrations": ("Abonnement staat koppelingen toe", "Subscription allows integrations"),
    "vat": ("BTW-tarieven", "VAT rates"),
    "ledgers": ("Grootboekrekeningen", "Ledger accounts"),
    "debtors": ("Debiteurnummers en relaties", "Debtor numbers and relaties"),
    "start_date": ("Startdatum", "Start date"),
    "dry_run": ("Proefrun van de eerste synchronisatie", "Dry run of the first sync"),
}
CHECK_KEYS = tuple(TITLES)

VAT_CODES = frozenset({"VAT_UNMAPPED", "VAT_KIND_INVALID", "VAT_PERCENTAGE_WRONG", "LINE_NO_VAT", "VERLEGD_MIXED"})
LEDGER_CODES = frozenset({"LEDGER_UNMAPPED", "LEDGER_MISSING", "LEDGER_INACTIVE", "LEDGER_NOT_SALES",
                          "LEDGER_VAT_MISMATCH", "LINE_NO_LEDGER", "LEDGER_NOT_SALES_NOTE"})
MAX_LISTED = 8  # invoice numbers named per problem; the rest is a count


@dataclass(frozen=True)
class CheckResult:
    key: str
    status: Status
    title_nl: str
    title_en: str
    explanation_nl: str
    explanation_en: str
    fix_nl: str = ""
    fix_en: str = ""
    details: tuple[dict, ...] = ()

    def title(self, lang: str = "nl") -> str:
        return self.title_en if lang == "en" else self.title_nl

    def explanation(self, lang: str = "nl") -> str:
        return self.explanation_en if lang == "en" else self.explanation_nl

    def fix(self, lang: str = "nl") -> str:
        return self.fix_en if lang == "en" else self.fix_nl

    @property
    def ok(self) -> bool:
        return self.status == PASS


def result(key: str, status: Status, nl: str, en: str, fix_nl: str = "", fix_en: str = "",
           details: Iterable[dict] = ()) -> CheckResult:
    title_nl, title_en = TITLES.get(key, (key, key))
    return CheckResult(key, status, title_nl, title_en, nl, en, fix_nl, fix_en, tuple(details))


def skipped(key: str, nl: str, en: str) -> CheckResult:
    """A check that could not run because an earlier one failed: a warning that says why, never a pass."""
    return result(key, WARNING, f"Niet uitgevoerd: {nl}", f"Not run: {en}")


# ============================================================================ grouping the mapping's problems


@dataclass
class ProblemGroup:
    """One thing to fix (a Gripp VAT rate, a ledger, a ledger+rate pair) and the invoices it affects."""

    code: str
    subject: str
    first: Problem
    blocking: bool
    numbers: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)

    def detail(self) -> dict[str, Any]:
        return {
            "code": self.code, "subject": self.subject, "blocking": self.blocking,
            "invoices": len(self.numbers), "numbers": list(self.numbers),
            "first_date": min(self.dates) if self.dates else None, "last_date": max(self.dates) if self.dates else None,
            "nl": self.first.nl, "en": self.first.en, "fix_nl": self.first.fix_nl, "fix_en": self.first.fix_en,
        }

    def text(self, lang: str) -> str:
        """The mapping's own text (it names the rate or ledger) and which invoices it concerns."""
        message = self.first.en if lang == "en" else self.first.nl
        return f"{message} {_affected(self.numbers, self.dates, lang)}"


def _affected(numbers: list[str], dates: list[date], lang: str) -> str:
    n = len(numbers)
    shown = ", ".join(numbers[:MAX_LISTED]) + ("…" if n > MAX_LISTED else "")
    if not dates:
        return ""
    first, last = min(dates), max(dates)
    if lang == "en":
        span = (f"on {fmt.day(first, 'en')}" if first == last
                else f"from {fmt.day(first, 'en')} to {fmt.day(last, 'en')}")
        return f"({n} invoice{'s' if n != 1 else ''} {span}: {shown})"
    span = f"op {fmt.day(first)}" if first == last else f"van {fmt.day(first)} t/m {fmt.day(last)}"
    return f"({n} factu{'ren' if n != 1 else 'ur'} {span}: {shown})"


def problem_groups(rows: Iterable[dict], ctx: MappingContext, codes: frozenset[str]) -> list[ProblemGroup]:
    """Run the mapping's validation on every invoice and group the problems with `codes` by what to fix.

    Problems about a rate or ledger group by their subject (`vat:<id>`, `ledger:<id>`, `ledger:<id>/vat:<id>`);
    per-line or per-invoice ones (a line without a VAT rate, reverse charge mixed in) group by code.
    """
    groups: dict[tuple[str, str], ProblemGroup] = {}
    for row in rows:
        invoice = invoice_input(row)
        for problem in check_invoice(invoice, ctx, include_notes=True):
            if problem.code not in codes:
                continue
            subject = problem.subject if problem.subject.startswith(("vat:", "ledger:")) else problem.code
            key = (problem.code, subject)
            group = groups.get(key)
            if group is None:
                group = groups[key] = ProblemGroup(problem.code, subject, problem, problem.blocking)
            if invoice.number not in group.numbers:
                group.numbers.append(invoice.number)
                group.dates.append(invoice.invoice_date)
    return sorted(groups.values(), key=lambda g: (not g.blocking, g.subject, g.code))


def used_rates_and_ledgers(rows: Iterable[dict]) -> tuple[dict[int, dict], dict[int, dict]]:
    """The Gripp VAT rates and ledgers on lines with an amount: id → {label, dates, invoices, vat_ids}."""
    vat: dict[int, dict] = {}
    ledgers: dict[int, dict] = {}
    for row in rows:
        invoice = invoice_input(row)
        for line in invoice.lines:
            if line_net(line) == 0:
                continue
            if line.vat_id is not None:
                entry = vat.setdefault(line.vat_id, {"label": line.vat_label, "dates": set(), "invoices": set()})
                entry["dates"].add(invoice.invoice_date)
                entry["invoices"].add(invoice.number)
            if line.ledger_id is not None:
                entry = ledgers.setdefault(line.ledger_id, {"label": line.ledger_label, "vat_ids": set(),
                                                            "invoices": set()})
                entry["invoices"].add(invoice.number)
                if line.vat_id is not None:
                    entry["vat_ids"].add(line.vat_id)
    return vat, ledgers


# ================================================================================================ context


@dataclass
class _Run:
    services: Services
    identity_id: int
    link: Link | None = None
    gripp_fresh: bool = False
    gripp_note: tuple[str, str] = ("", "")
    client: SnelStartClient | None = None
    key_ok: bool = False
    key_problem: tuple[str, str] = ("", "")
    scopes: tuple[str, ...] | None = None
    reference: bool = False  # SnelStart ledgers and VAT history available (fresh or cached)
    reference_loaded: bool = False  # tried (once, before the first check that needs it)
    reference_note: tuple[str, str] = ("", "")

    @property
    def store(self) -> Store:
        return self.services.store

    def rows(self) -> list[dict]:
        start = self.link.start_date if self.link else None
        return invoices_in_scope(self.store, self.identity_id, start)

    def note(self) -> tuple[str, str]:
        """Said after a result that worked from older data."""
        nl = " ".join(p for p in (self.gripp_note[0], self.reference_note[0]) if p)
        en = " ".join(p for p in (self.gripp_note[1], self.reference_note[1]) if p)
        return (f" {nl}" if nl else "", f" {en}" if en else "")


def run_checks(services: Services, identity_id: int, *, include_dry_run: bool = True,
               only: Iterable[str] | None = None, actor: Actor | str = "system") -> list[CheckResult]:
    """Every check for one identity (or `only` those named), in the order support walks through them. Never
    raises for a broken link."""
    require(actor, "checks")
    run = _Run(services, identity_id, link=setup_repo.get_link(services.store, identity_id))
    steps: list[tuple[str, Callable[[_Run], CheckResult]]] = [
        ("gripp", _check_gripp),
        ("subscription", _check_subscription),
        ("koppelsleutel", _check_koppelsleutel),
        ("integrations", _check_integrations),
        ("vat", _check_vat),
        ("ledgers", _check_ledgers),
        ("debtors", _check_debtors),
        ("start_date", _check_start_date),
    ]
    if include_dry_run:
        steps.append(("dry_run", _check_dry_run))
    if only is not None:
        wanted = set(only)
        steps = [(key, step) for key, step in steps if key in wanted]
    results = []
    try:
        for key, step in steps:
            try:
                if key in ("vat", "ledgers", "debtors") and not run.reference_loaded:
                    _load_reference(run)
                    run.reference_loaded = True
                results.append(step(run))
            except Exception as exc:  # a check that trips over something unforeseen says so; the others still run
                log.exception("check %s failed for identity %s", key, identity_id)
                results.append(result(
                    key, FAIL, f"De controle zelf liep vast ({type(exc).__name__}). Probeer het opnieuw; blijft dit "
                    "zo, geef dit door aan de ondersteuning.",
                    f"The check itself broke down ({type(exc).__name__}). Try again; if it persists, report it to "
                    "support.",
                ))
    finally:
        if run.client is not None:
            run.client.close()
        services.ran()  # the account's health row (a broken link found here shows on the support overview)
    return results


# ================================================================================================ 1. Gripp


def _check_gripp(run: _Run) -> CheckResult:
    services = run.services
    try:
        client = services.gripp()
    except RuntimeError:
        return result("gripp", FAIL, "Er is geen Gripp API-sleutel ingesteld.", "No Gripp API token is configured.",
                      "Maak in Gripp een API-sleutel (Instellingen › API-rollen) en stel GRIPP_API_TOKEN in.",
                      "Create an API token in Gripp (Settings › API roles) and set GRIPP_API_TOKEN.")
    try:
        answers = client.batch([client.get_call("invoice", first=0, max_results=1),
                                client.get_call("company", first=0, max_results=1)])
    except gripp_errors.GrippAuthError:
        return result("gripp", FAIL, "Gripp weigert de API-sleutel (ongeldig of ingetrokken).",
                      "Gripp refuses the API token (invalid or revoked).",
                      "Maak een nieuwe API-sleutel onder Instellingen › API-rollen in Gripp en stel die in.",
                      "Create a new API token under Settings › API roles in Gripp and configure it.")
    except gripp_errors.GrippError as exc:
        return _gripp_unreachable(run, exc)
    refused = [name for name, answer in zip(("facturen", "relaties"), answers, strict=True) if not answer.ok]
    if refused:
        what_nl = " en ".join(refused)
        what_en = " and ".join({"facturen": "invoices", "relaties": "companies"}[r] for r in refused)
        return result("gripp", FAIL, f"De Gripp API-sleutel werkt, maar mag geen {what_nl} lezen.",
                      f"The Gripp API token works but may not read {what_en}.",
                      "Geef de API-rol van deze sleutel in Gripp leesrechten op facturen en relaties en het recht "
                      "betalingen aan te maken (Instellingen › API-rollen).",
                      "Give this token's API role read access to invoices and companies and the right to create "
                      "payments in Gripp (Settings › API roles).")
    try:
        refresh_gripp(run.store, client)
        run.gripp_fresh = True
    except gripp_errors.GrippError as exc:
        return _gripp_unreachable(run, exc)
    proven = run.store.scalar("SELECT count(*) FROM payments_applied WHERE identity_id = ? AND state = 'done'",
                              [run.identity_id])
    if proven:
        nl_pay = f" Betalingen registreren werkt ook: deze koppeling heeft er al {proven} in Gripp gezet."
        en_pay = f" Registering payments works too: this link has already put {proven} into Gripp."
    else:
        nl_pay = (" Of de sleutel betalingen mag aanmaken is zonder schrijven niet te zien; dat blijkt bij de eerste "
                  "betaling die terugkomt (een weigering verschijnt dan met de oplossing in het synchronisatielog).")
        en_pay = (" Whether the token may create payments cannot be seen without writing one; that shows at the "
                  "first payment coming back (a refusal then appears in the sync log with the fix).")
    return result("gripp", PASS, f"De Gripp API-sleutel werkt en mag facturen en relaties lezen.{nl_pay}",
                  f"The Gripp API token works and may read invoices and companies.{en_pay}")


def _gripp_unreachable(run: _Run, exc: gripp_errors.GrippError) -> CheckResult:
    cached = bool(run.store.scalar("SELECT count(*) FROM gripp_invoices WHERE identity_id = ?", [run.identity_id]))
    if cached:
        run.gripp_note = ("(Gripp-gegevens uit de laatste synchronisatie.)", "(Gripp data from the last sync.)")
    if isinstance(exc, gripp_errors.GrippQuotaExceeded):
        when = exc.resume_at.strftime("%H:%M")
        return result("gripp", WARNING, "Het uurquotum van de Gripp-API is op; de sleutel kon niet worden getest.",
                      "Gripp's hourly API quota is spent; the token could not be tested.",
                      f"Probeer het na {when} opnieuw.", f"Try again after {when}.")
    return result("gripp", WARNING, f"Gripp is nu niet bereikbaar ({type(exc).__name__}); de sleutel kon niet worden "
                  "getest.", f"Gripp is unreachable right now ({type(exc).__name__}); the token could not be tested.",
                  "Probeer het over een paar minuten opnieuw.", "Try again in a few minutes.")


# ================================================================================================ 2. subscription


def _check_subscription(run: _Run) -> CheckResult:
    """SnelStart's `GET /echo/{text}` needs only the subscription key (no token, no scope): it tests the partner's
    key on its own, also when a koppelsleutel is broken."""
    settings = run.services.settings
    key = settings.snelstart_subscription_key
    if not key:
        return result("subscription", FAIL, "Er is geen SnelStart-abonnementssleutel ingesteld.",
                      "No SnelStart subscription key is configured.",
                      "Stel SNELSTART_SUBSCRIPTION_KEY in (SnelStart-ontwikkelaarsportaal › Products/Profile).",
                      "Set SNELSTART_SUBSCRIPTION_KEY (SnelStart developer portal › Products/Profile).")
    try:
        with httpx.Client(transport=run.services.transport, timeout=15.0) as http:
            answer = http.get(f"{settings.snelstart_api_url}/echo/gripp-link",
                              headers={SUBSCRIPTION_KEY_HEADER: key, "Accept": "application/json"})
    except httpx.HTTPError as exc:
        return result("subscription", WARNING, f"SnelStart is nu niet bereikbaar ({type(exc).__name__}).",
                      f"SnelStart is unreachable right now ({type(exc).__name__}).",
                      "Probeer het over een paar minuten opnieuw.", "Try again in a few minutes.")
    if answer.status_code < 300:
        return result("subscription", PASS, "SnelStart accepteert de abonnementssleutel.",
                      "SnelStart accepts the subscription key.")
    error = ss_errors.error_for_response(answer)
    if answer.status_code == 401 or isinstance(error, ss_errors.SubscriptionKeyError):
        return result("subscription", FAIL,
                      "SnelStart weigert de abonnementssleutel: hij is ongeldig of verlopen (de test-sleutel werkt "
                      "90 dagen). Alle gekoppelde administraties staan daardoor stil.",
                      "SnelStart refuses the subscription key: it is invalid or expired (test keys last 90 days). "
                      "Every linked administration is stopped by it.",
                      "Vraag een nieuwe sleutel aan in het SnelStart-ontwikkelaarsportaal en stel "
                      "SNELSTART_SUBSCRIPTION_KEY in.",
                      "Get a new key from the SnelStart developer portal and set SNELSTART_SUBSCRIPTION_KEY.")
    if error.transient:
        return result("subscription", WARNING, "SnelStart is nu te druk om de abonnementssleutel te testen.",
                      "SnelStart is too busy right now to test the subscription key.",
                      "Probeer het over een paar minuten opnieuw.", "Try again in a few minutes.")
    return result("subscription", WARNING, f"SnelStart gaf een onverwacht antwoord (HTTP {answer.status_code}) op de "
                  "test van de abonnementssleutel.",
                  f"SnelStart answered unexpectedly (HTTP {answer.status_code}) to the subscription key test.")


# ================================================================================================ 3. koppelsleutel


def _check_koppelsleutel(run: _Run) -> CheckResult:
    link = run.link
    store = run.store
    if link is None:
        run.key_problem = ("de identiteit is niet gekoppeld.", "the identity is not linked.")
        return result("koppelsleutel", FAIL, "Deze identiteit is nog niet aan een SnelStart-administratie gekoppeld.",
                      "This identity is not linked to a SnelStart administration yet.",
                      "Koppel hem onder Koppelen met ‘Maatwerk key ophalen’, of plak een koppelsleutel uit SnelStart "
                      "(Koppelingen → Maatwerk).",
                      "Link it under Linking with ‘Maatwerk key ophalen’, or paste a koppelsleutel from SnelStart "
                      "(Koppelingen → Maatwerk).")
    try:
        # A client of its own, so a new token is minted: a token cached by the sync can outlive a revoked key.
        client = run.services.snelstart_for_key(run.services.vault.decrypt(link.koppelsleutel_enc))
    except VaultError:
        run.key_problem = ("de opgeslagen koppelsleutel is niet te ontsleutelen.",
                           "the stored key cannot be decrypted.")
        return result("koppelsleutel", FAIL,
                      "De opgeslagen koppelsleutel kan niet worden ontsleuteld: is SYNC_SECRET_KEY veranderd?",
                      "The stored koppelsleutel cannot be decrypted: was SYNC_SECRET_KEY changed?",
                      "Zet de oude SYNC_SECRET_KEY terug, of koppel de administratie opnieuw.",
                      "Restore the previous SYNC_SECRET_KEY, or link the administration again.")
    run.client = client
    try:
        run.scopes = tuple(client.scopes())
    except ss_errors.SnelStartError as exc:
        return _key_failed(run, exc)
    try:
        info = client.company_info()
    except ss_errors.MissingScopeError:
        run.key_ok = True  # the token works; only the company details are out of reach
        return result("koppelsleutel", FAIL,
                      f"De koppelsleutel ({link.key_hint}) geeft een token, maar SnelStart laat de bedrijfsgegevens "
                      "niet zien (scope settings:read ontbreekt), dus de administratie is niet te bevestigen.",
                      f"The koppelsleutel ({link.key_hint}) gives a token, but SnelStart will not show the company "
                      "details (scope settings:read is missing), so the administration cannot be confirmed.",
                      "Controleer of het SnelStart-abonnement koppelingen toestaat (zie hieronder) en koppel opnieuw.",
                      "Check that the SnelStart subscription allows integrations (see below) and link again.")
    except ss_errors.SubscriptionKeyError:
        run.key_ok = True
        return result("koppelsleutel", WARNING,
                      f"De koppelsleutel ({link.key_hint}) geeft een token, maar de administratie kon niet worden "
                      "opgevraagd omdat SnelStart de abonnementssleutel weigert.",
                      f"The koppelsleutel ({link.key_hint}) gives a token, but the administration could not be read "
                      "because SnelStart refuses the subscription key.",
                      "Los eerst de abonnementssleutel op.", "Fix the subscription key first.")
    except ss_errors.SnelStartError as exc:
        return _key_failed(run, exc)
    run.key_ok = True
    admin_id = str(info.get("administratieIdentifier") or "")
    name = str(info.get("administratieNaam") or link.administration_name)
    if admin_id and admin_id != link.administration_id:
        return result("koppelsleutel", FAIL,
                      f"De koppelsleutel opent administratie ‘{name}’, maar de koppeling hoort bij "
                      f"‘{link.administration_name}’.",
                      f"The koppelsleutel opens administration ‘{name}’, but the link belongs to "
                      f"‘{link.administration_name}’.",
                      "Koppel deze identiteit opnieuw met een sleutel voor de juiste administratie.",
                      "Link this identity again with a key for the right administration.")
    setup_repo.set_link_health(store, run.identity_id, "ok")
    company = str(info.get("bedrijfsnaam") or "")
    of_nl = f" van {company}" if company and company != name else ""
    of_en = f" of {company}" if company and company != name else ""
    return result("koppelsleutel", PASS,
                  fmt.sentence(f"De koppelsleutel ({link.key_hint}) werkt en opent administratie ‘{name}’{of_nl}"),
                  fmt.sentence(f"The koppelsleutel ({link.key_hint}) works and opens administration ‘{name}’{of_en}"),
                  details=[{"administration_id": link.administration_id, "administration_name": name,
                            "company_name": company}])


def _key_failed(run: _Run, exc: ss_errors.SnelStartError) -> CheckResult:
    error = key_error(exc)
    run.key_problem = ("de koppelsleutel werkt niet.", "the koppelsleutel does not work.")
    if error.code == "unavailable":
        run.key_problem = ("SnelStart is nu niet bereikbaar.", "SnelStart is unreachable right now.")
        return result("koppelsleutel", WARNING, error.nl, error.en, "Probeer het over een paar minuten opnieuw.",
                      "Try again in a few minutes.")
    if isinstance(exc, ss_errors.KoppelsleutelError | ss_errors.TokenRejectedError):
        setup_repo.set_link_health(run.store, run.identity_id, "broken", error.message)
    hint = run.link.key_hint if run.link else "—"
    return result("koppelsleutel", FAIL, f"De koppelsleutel ({hint}) werkt niet. {error.nl}",
                  f"The koppelsleutel ({hint}) does not work. {error.en}",
                  "Koppel de administratie opnieuw onder Koppelen; de synchronisatie van deze identiteit staat "
                  "stil tot dan.",
                  "Link the administration again under Linking; this identity's sync is stopped until then.")


# ================================================================================================ 4. integrations


def _check_integrations(run: _Run) -> CheckResult:
    if run.scopes is None:
        return skipped("integrations", f"de rechten staan in het token, en {run.key_problem[0] or 'er is geen token.'}",
                       f"the scopes are in the token, and {run.key_problem[1] or 'there is no token.'}")
    missing = [s for s in REQUIRED_SCOPES if s not in run.scopes]
    details = [{"scope": s, "granted": s in run.scopes} for s in REQUIRED_SCOPES]
    if missing:
        listed = ", ".join(missing)
        return result("integrations", FAIL,
                      f"Het SnelStart-abonnement staat niet alles toe wat de koppeling nodig heeft; deze rechten "
                      f"(scopes) ontbreken: {listed}.",
                      f"The SnelStart subscription does not allow everything the link needs; these scopes are "
                      f"missing: {listed}.",
                      "Laat de klant controleren of het SnelStart-abonnement koppelingen toestaat (en welke "
                      "onderdelen, bijvoorbeeld bankieren of orders), en koppel daarna opnieuw zodat de sleutel de "
                      "nieuwe rechten krijgt.",
                      "Have the customer check that the SnelStart subscription allows integrations (and which parts, "
                      "such as banking or orders), then link again so the key gets the new scopes.",
                      details)
    return result("integrations", PASS,
                  f"Het abonnement staat koppelingen toe: het token heeft alle {len(REQUIRED_SCOPES)} benodigde "
                  "rechten.",
                  f"The subscription allows integrations: the token has all {len(REQUIRED_SCOPES)} scopes needed.",
                  details=details)


# ================================================================================================ reference data


def _load_reference(run: _Run) -> None:
    """SnelStart's ledgers, VAT history and relaties for checks 5–7: fresh when the key works, else the cache."""
    link = run.link
    if link is None:
        return
    if run.key_ok and run.client is not None:
        try:
            refresh_reference(run.store, run.client, link.administration_id)
            run.reference = True
            return
        except ss_errors.SnelStartError as exc:
            log.info("reference refresh failed for identity %s: %s", run.identity_id, type(exc).__name__)
    age = reference_age(run.store, link.administration_id)
    if age is not None:
        run.reference = True
        hours = int(age.total_seconds() // 3600)
        run.reference_note = (f"(SnelStart-gegevens van {hours} uur geleden: SnelStart was nu niet te lezen.)",
                              f"(SnelStart data from {hours} hours ago: SnelStart could not be read now.)")


def _reference_missing(key: str, run: _Run) -> CheckResult:
    if run.link is None:
        return skipped(key, "de identiteit is niet gekoppeld.", "the identity is not linked.")
    reason = run.key_problem if run.key_problem[0] else ("SnelStart gaf de grootboeken en BTW-tarieven niet.",
                                                         "SnelStart did not return the ledgers and VAT rates.")
    return skipped(key, f"de gegevens uit SnelStart ontbreken: {reason[0]}",
                   f"the SnelStart data is missing: {reason[1]}")


def _context(run: _Run) -> MappingContext:
    assert run.link is not None
    return mapping_context(run.store, run.identity_id, run.link.administration_id)


# ================================================================================================ 5. VAT


_RATES, _LEDGERS = 0, 1  # which half of `used_rates_and_ledgers` a check looks at


def _check_vat(run: _Run) -> CheckResult:
    return _check_mapped("vat", run, VAT_CODES, _RATES,
                         ("Er zijn (nog) geen verstuurde facturen met een BTW-tarief in de periode.",
                          "There are no sent invoices with a VAT rate in the period (yet)."), _vat_mapped)


def _vat_mapped(ctx: MappingContext, used: dict[int, dict]) -> tuple[str, str, list[dict]]:
    mapped = ", ".join(f"‘{ctx.vat[i].gripp_label or used[i]['label']}’ → {ctx.vat[i].kind}" for i in sorted(used))
    return (f"Alle {len(used)} gebruikte BTW-tarieven zijn gekoppeld en hun percentage klopt met SnelStart op "
            f"elke factuurdatum: {mapped}.",
            f"All {len(used)} VAT rates used are mapped and their percentage matches SnelStart on every "
            f"invoice date: {mapped}.",
            [{"gripp_vat_id": i, "label": ctx.vat[i].gripp_label or used[i]["label"], "kind": ctx.vat[i].kind,
              "percentage": ctx.vat[i].percentage, "invoices": len(used[i]["invoices"])} for i in sorted(used)])


def _check_mapped(key: str, run: _Run, codes: frozenset[str], which: int, none_used: tuple[str, str],
                  all_mapped: Callable[[MappingContext, dict[int, dict]], tuple[str, str, list[dict]]],
                  ) -> CheckResult:
    """The VAT and ledger checks: the problems with these codes on the invoices in scope, else a pass that names
    what is used and how it is mapped (`all_mapped`), or that nothing is used yet."""
    if not run.reference or run.link is None:
        return _reference_missing(key, run)
    rows = run.rows()
    ctx = _context(run)
    groups = problem_groups(rows, ctx, codes)
    used = used_rates_and_ledgers(rows)[which]
    note_nl, note_en = run.note()
    if groups:
        return _from_groups(key, groups, note_nl, note_en)
    if not used:
        return result(key, PASS, none_used[0] + note_nl, none_used[1] + note_en)
    nl, en, details = all_mapped(ctx, used)
    return result(key, PASS, nl + note_nl, en + note_en, details=details)


def _from_groups(key: str, groups: list[ProblemGroup], note_nl: str, note_en: str) -> CheckResult:
    """One result from grouped problems: fail when any blocks an invoice, else a warning."""
    status: Status = FAIL if any(g.blocking for g in groups) else WARNING
    fixes_nl = list(dict.fromkeys(g.first.fix_nl for g in groups))
    fixes_en = list(dict.fromkeys(g.first.fix_en for g in groups))
    return result(key, status, _as_list([g.text("nl") for g in groups]) + note_nl,
                  _as_list([g.text("en") for g in groups]) + note_en, _as_list(fixes_nl), _as_list(fixes_en),
                  [g.detail() for g in groups])


def _as_list(items: list[str]) -> str:
    """One thing as a sentence; several as a list, one per line (markdown in the console, plain on the CLI)."""
    if len(items) == 1:
        return items[0]
    return "\n".join(f"- {item}" for item in items)


# ================================================================================================ 6. ledgers


def _check_ledgers(run: _Run) -> CheckResult:
    return _check_mapped("ledgers", run, LEDGER_CODES, _LEDGERS,
                         ("Er zijn (nog) geen verstuurde facturen met een grootboek in de periode.",
                          "There are no sent invoices with a ledger in the period (yet)."), _ledgers_mapped)


def _ledgers_mapped(ctx: MappingContext, used: dict[int, dict]) -> tuple[str, str, list[dict]]:
    mapped = ", ".join(f"‘{ctx.ledgers[i].gripp_label or used[i]['label']}’ → {ctx.ledgers[i].snelstart_number}"
                       for i in sorted(used))
    return (f"Alle {len(used)} gebruikte grootboeken zijn gekoppeld aan een actieve omzetrekening in SnelStart "
            f"die de gebruikte BTW-soorten toestaat: {mapped}.",
            f"All {len(used)} ledgers used map to an active SnelStart revenue account that allows the VAT "
            f"kinds used on it: {mapped}.",
            [{"gripp_ledger_id": i, "label": ctx.ledgers[i].gripp_label or used[i]["label"],
              "snelstart_number": ctx.ledgers[i].snelstart_number, "invoices": len(used[i]["invoices"])}
             for i in sorted(used)])


# ================================================================================================ 7. debtors


def debtor_overview(store: Store, identity_id: int, administration_id: str, rows: list[dict]) -> dict[str, Any]:
    """How the customers of these invoices meet SnelStart's relaties, by the push's own rules
    (`sync.mapping.customers`): pinned by a person, relatiecode = Gripp customer number, another key (VAT, KvK,
    a relatie the link created, the exact name), to be created — or contradicting keys that block their
    invoices."""
    customers = customer_inputs(store, identity_id, administration_id)
    first_row: dict[int, dict] = {}
    for row in rows:
        if row["company_id"] is not None:
            first_row.setdefault(row["company_id"], row)
    out: dict[str, Any] = {"customers": len(first_row), "by_number": [], "by_other": [], "earlier": [],
                           "to_create": [], "conflicts": []}
    for company_id in sorted(first_row):
        company = customers.company(company_id, first_row[company_id].get("company_name") or "")
        entry = {"company_id": company_id, "customernumber": company.customernumber, "gripp_name": company.name}
        match = customers.match(first_row[company_id])
        if match.problem is not None:
            out["conflicts"].append({**entry, "snelstart_name": ", ".join(r.name for r in match.involved),
                                     "relaties": [{"relatie_id": r.relatie_id, "relatiecode": r.relatiecode,
                                                   "name": r.name} for r in match.involved],
                                     "reason": match.problem.code, "nl": match.problem.nl, "en": match.problem.en})
        elif match.how == RELATIECODE:
            out["by_number"].append(entry)
        elif match.how in (PINNED, CREATED):
            out["earlier"].append(entry)
        elif match.how == NEW:
            out["to_create"].append(entry)
        else:
            out["by_other"].append(entry)
    return out


def _check_debtors(run: _Run) -> CheckResult:
    if not run.reference or run.link is None:
        return _reference_missing("debtors", run)
    overview = debtor_overview(run.store, run.identity_id, run.link.administration_id, run.rows())
    n_number, n_other = len(overview["by_number"]), len(overview["by_other"]) + len(overview["earlier"])
    n_create, conflicts = len(overview["to_create"]), overview["conflicts"]
    note_nl, note_en = run.note()
    nl = (f"Van de {overview['customers']} klanten met facturen in de periode hebben er {n_number} een relatie "
          f"(soort Klant) met hetzelfde debiteurnummer in SnelStart, {n_other} worden herkend aan BTW- of KvK-nummer, "
          f"naam, een vastlegging of een eerdere koppeling en {n_create} worden als nieuwe relatie aangemaakt.")
    en = (f"Of the {overview['customers']} customers with invoices in the period, {n_number} have a relatie (kind "
          f"Klant) with the same debtor number in SnelStart, {n_other} are recognised by VAT or KvK number, name, a "
          f"pin or an earlier match, and {n_create} will be created as new relaties.")
    if not conflicts:
        return result("debtors", PASS, nl + note_nl, en + note_en, details=[{"summary": {
            "by_number": n_number, "by_other": n_other, "to_create": n_create}}])
    listed_nl = " ".join(c["nl"] for c in conflicts[:MAX_LISTED])
    listed_en = " ".join(c["en"] for c in conflicts[:MAX_LISTED])
    return result(
        "debtors", WARNING,
        f"{nl} Let op: bij {fmt.plural(len(conflicts), 'klant', 'klanten')} spreken de gegevens elkaar tegen; hun "
        f"facturen worden niet geboekt tot dat is opgelost. {listed_nl}{note_nl}",
        f"{en} Note: for {fmt.plural(len(conflicts), 'customer', 'customers', 'en')} the details contradict each "
        f"other; their invoices are not booked until that is solved. {listed_en}{note_en}",
        "Is het dezelfde klant, corrigeer dan het nummer of de naam in Gripp of SnelStart; of leg de klant onder "
        "Klantkoppeling vast aan de juiste relatie. Is het een andere, geef de klant in Gripp of de relatie in "
        "SnelStart een ander nummer.",
        "If it is the same customer, correct the number or name in Gripp or SnelStart, or pin the customer to the "
        "right relatie under Customer mapping. If it is another, give the customer in Gripp or the relatie in "
        "SnelStart another number.",
        conflicts,
    )


# ================================================================================================ 8. start date


def _check_start_date(run: _Run) -> CheckResult:
    link = run.link
    if link is None:
        return result("start_date", FAIL, "Er is geen startdatum: de identiteit is nog niet gekoppeld.",
                      "There is no start date: the identity is not linked yet.",
                      "Koppel de identiteit en kies de startdatum.", "Link the identity and choose the start date.")
    if link.start_date is None:
        return result("start_date", FAIL,
                      "Er is geen startdatum ingesteld, dus het is niet duidelijk vanaf welke factuur de koppeling "
                      "moet boeken.",
                      "No start date is set, so it is unclear from which invoice on the link should book.",
                      "Stel onder Koppelen de startdatum in: verstuurde facturen vanaf die datum gaan naar SnelStart. "
                      "Kies de dag na de laatste factuur die al in SnelStart staat.",
                      "Set the start date under Linking: sent invoices from that date on go to SnelStart. Choose "
                      "the day after the last invoice already in SnelStart.")
    count = len(run.rows())
    start = link.start_date
    today = run.services.today()
    if start > today:
        return result("start_date", WARNING,
                      f"De startdatum is {fmt.day(start)}, in de toekomst: tot dan wordt er niets geboekt.",
                      f"The start date is {fmt.day(start, 'en')}, in the future: nothing is booked until then.",
                      "Klopt dat niet, zet de startdatum dan op de eerste factuur die naar SnelStart moet.",
                      "If that is not intended, set the start date to the first invoice that should go to SnelStart.")
    n_nl, n_en = fmt.plural(count, "factuur", "facturen"), fmt.plural(count, "invoice", "invoices", "en")
    return result("start_date", PASS,
                  f"Verstuurde facturen vanaf {fmt.day(start)} gaan naar SnelStart ({n_nl} nu).",
                  f"Sent invoices from {fmt.day(start, 'en')} on go to SnelStart ({n_en} now).",
                  details=[{"start_date": start, "invoices": count}])


# ================================================================================================ 9. dry run


def _check_dry_run(run: _Run) -> CheckResult:
    from sync.jobs import plan
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.preview import preview_identity

    if run.link is None:
        return skipped("dry_run", "de identiteit is niet gekoppeld.", "the identity is not linked.")
    if not run.key_ok:
        return skipped("dry_run", run.key_problem[0] or "de koppelsleutel werkt niet.",
                       run.key_problem[1] or "the koppelsleutel does not work.")
    try:
        preview = preview_identity(run.services, run.identity_id, actor="check")
    except AlreadyRunning:
        return result("dry_run", WARNING, "Er loopt nu een synchronisatie voor deze identiteit; de proefrun is "
                      "overgeslagen.", "A sync is running for this identity right now; the dry run was skipped.",
                      "Probeer het opnieuw als die klaar is.", "Try again when it has finished.")
    if preview.outcome == "failed":
        reason = preview.reason or {"nl": "", "en": ""}
        return result("dry_run", FAIL, f"De proefrun mislukte: {reason['nl']}", f"The dry run failed: {reason['en']}",
                      "Los eerst de fouten hierboven op en probeer het opnieuw.",
                      "Fix the failures above first and try again.")
    counts = preview.counts()
    blocked = preview.of(plan.BLOCKED) + preview.of(plan.REFUSED)
    conflicts = preview.of(plan.CONFLICT)
    details = [{"number": line.number, "code": (list(line.codes) or ["REFUSED"])[0],
                **(line.reasons or {"nl": "", "en": ""})} for line in blocked + conflicts]
    conflict_nl = (f", {fmt.plural(counts[plan.CONFLICT], 'conflict', 'conflicten')} (SnelStart heeft onder het "
                   "nummer een boeking die niet bij de factuur past)" if conflicts else "")
    conflict_en = (f", {fmt.plural(counts[plan.CONFLICT], 'conflict', 'conflicts', 'en')} (SnelStart holds a "
                   "booking with the number that does not fit the invoice)" if conflicts else "")
    nl = (f"{fmt.plural(counts[plan.BOOK], 'factuur wordt', 'facturen worden')} geboekt, "
          f"{counts[plan.ADOPT]} overgenomen (staan al in SnelStart){conflict_nl}, {counts[plan.BLOCKED]} geblokkeerd "
          f"en {fmt.plural(counts['payments'], 'betaling komt', 'betalingen komen')} terug in Gripp.")
    en = (f"{fmt.plural(counts[plan.BOOK], 'invoice', 'invoices', 'en')} would be booked, {counts[plan.ADOPT]} "
          f"adopted (already in SnelStart){conflict_en}, {counts[plan.BLOCKED]} blocked and "
          f"{fmt.plural(counts['payments'], 'payment', 'payments', 'en')} would come back to Gripp.")
    if not details:
        return result("dry_run", PASS, nl, en, details=details)
    return result("dry_run", WARNING, nl, en,
                  "Geblokkeerde facturen worden niet geboekt tot de oorzaak is opgelost (zie de andere controles en "
                  "de proefrun: in de console onderaan Controles, op de opdrachtregel `python -m sync dry-run`); "
                  "daarna gaan ze bij de volgende synchronisatie vanzelf mee. "
                  "Een conflict beslist iemand: toch overnemen, of de boeking in SnelStart hernummeren of crediteren.",
                  "Blocked invoices are not booked until the cause is fixed (see the other checks and the dry run: "
                  "at the bottom of Controles in the console, `python -m sync dry-run` on the command line); "
                  "then the next sync takes them along by itself. A person decides a "
                  "conflict: adopt anyway, or renumber or credit the booking in SnelStart.",
                  details)
