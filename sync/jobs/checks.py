"""The setup checks per identity: what support walks through with a customer before the first sync.

Each check is pass / warning / fail (`CheckStatus`), with a plain explanation and the fix as messages from the
catalog (`check.<check>.…`), said in the reader's language by whoever shows them:

1. gripp          the Gripp API token works and may read invoices and companies
2. subscription   the SnelStart subscription key works
3. koppelsleutel  the koppelsleutel gives a token and `companyInfo` names the administration
4. integrations   the token's scopes cover what the link needs (the subscription allows integrations)
5. vat            every Gripp VAT rate used since the start date is mapped, at SnelStart's percentage on every
                  invoice date it is used (SnelStart's `btwtarieven` history)
6. ledgers        every Gripp ledger used maps to a grootboek that exists, is active, is a sales account and
                  accepts the VAT kinds booked on it (so BOE-0069/0081/0082 never happen at push time)
6b. kostenplaatsen every Gripp kostenplaats used maps to an active SnelStart one (when the lines are the source),
                  and no grootboek that demands a kostenplaats meets a line without one — named by the grootboek
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
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import Any

import httpx

from sync.auth.access import Actor, require
from sync.core import joined
from sync.core.events import Outcome
from sync.core.vault import VaultError
from sync.core.words import N_, NN_, Msg
from sync.gripp import errors as gripp_errors
from sync.jobs.inputs import customer_inputs, invoice_ceiling, invoice_input, invoices_in_scope, mapping_context
from sync.jobs.linking import REQUIRED_SCOPES, key_error, shared_administrations
from sync.jobs.refresh import reference_age, refresh_gripp, refresh_reference
from sync.jobs.services import Services
from sync.mapping import check_invoice, line_net
from sync.mapping.customers import BOOKED, CREATED, NEW, PINNED, RELATIECODE
from sync.mapping.problems import LINE_KOSTENPLAATS_CODES, Problem, ProblemCode, shared_fix
from sync.mapping.types import MappingContext
from sync.snelstart import errors as ss_errors
from sync.snelstart.client import SnelStartClient
from sync.snelstart.constants import SUBSCRIPTION_KEY_HEADER
from sync.store import cache, check_results, outbox
from sync.store import setup as setup_repo
from sync.store.db import Store
from sync.store.setup import Link, LinkHealth

log = logging.getLogger(__name__)


class CheckKey(StrEnum):
    """What was checked: the setup checks in the order support walks through them, then the checks run on a mapping
    just saved."""

    GRIPP = "gripp"
    SUBSCRIPTION = "subscription"
    KOPPELSLEUTEL = "koppelsleutel"
    INTEGRATIONS = "integrations"
    VAT = "vat"
    LEDGERS = "ledgers"
    KOSTENPLAATSEN = "kostenplaatsen"
    DEBTORS = "debtors"
    START_DATE = "start_date"
    DRY_RUN = "dry_run"
    VAT_MAPPING = "vat_mapping"  # sync.jobs.suggestions
    LEDGER_MAPPING = "ledger_mapping"
    KOSTENPLAATS_MAPPING = "kostenplaats_mapping"  # sync.jobs.kostenplaatsen
    CUSTOMER_MAPPING = "customer_mapping"  # sync.jobs.customer_mapping


class CheckStatus(StrEnum):
    PASS = "pass"
    WARNING = "warning"
    FAIL = "fail"


PASS, WARNING, FAIL = CheckStatus.PASS, CheckStatus.WARNING, CheckStatus.FAIL

TITLES: dict[CheckKey, str] = {
    CheckKey.GRIPP: N_("check.gripp.title"),
    CheckKey.SUBSCRIPTION: N_("check.subscription.title"),
    CheckKey.KOPPELSLEUTEL: N_("check.koppelsleutel.title"),
    CheckKey.INTEGRATIONS: N_("check.integrations.title"),
    CheckKey.VAT: N_("check.vat.title"),
    CheckKey.LEDGERS: N_("check.ledgers.title"),
    CheckKey.KOSTENPLAATSEN: N_("check.kostenplaatsen.title"),
    CheckKey.DEBTORS: N_("check.debtors.title"),
    CheckKey.START_DATE: N_("check.start_date.title"),
    CheckKey.DRY_RUN: N_("check.dry_run.title"),
    CheckKey.VAT_MAPPING: N_("check.vat_mapping.title"),
    CheckKey.LEDGER_MAPPING: N_("check.ledger_mapping.title"),
    CheckKey.KOSTENPLAATS_MAPPING: N_("check.kostenplaats_mapping.title"),
    CheckKey.CUSTOMER_MAPPING: N_("check.customer_mapping.title"),
}
# the setup checks, in order
CHECK_KEYS = (CheckKey.GRIPP, CheckKey.SUBSCRIPTION, CheckKey.KOPPELSLEUTEL, CheckKey.INTEGRATIONS, CheckKey.VAT,
              CheckKey.LEDGERS, CheckKey.KOSTENPLAATSEN, CheckKey.DEBTORS, CheckKey.START_DATE, CheckKey.DRY_RUN)

_P = ProblemCode
VAT_CODES = frozenset({_P.VAT_UNMAPPED, _P.VAT_KIND_INVALID, _P.VAT_PERCENTAGE_WRONG, _P.LINE_NO_VAT, _P.VERLEGD_MIXED})
LEDGER_CODES = frozenset({_P.LEDGER_UNMAPPED, _P.LEDGER_MISSING, _P.LEDGER_INACTIVE, _P.LEDGER_NOT_SALES,
                          _P.LEDGER_VAT_MISMATCH, _P.LINE_NO_LEDGER, _P.LEDGER_NOT_SALES_NOTE})
KOSTENPLAATS_CODES = LINE_KOSTENPLAATS_CODES
MAX_LISTED = 8  # invoice numbers named per problem; the rest is a count
TRY_AGAIN_LATER = N_("check.try_again_later")


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: what it says (`explanation`) and, when it did not pass, what to do (`fix`), as messages;
    `details` are the data behind it (for the CLI and tests)."""

    check: CheckKey
    status: CheckStatus
    explanation: Msg
    fix: Msg | None = None
    details: tuple[dict, ...] = ()
    # Not done yet rather than wrong: the check needs the link, and the identity is not linked yet (its status
    # stays what it is, so `check` still exits 1; the linking page shows it as a step still to come).
    waits_for_link: bool = False

    @property
    def title(self) -> Msg:
        return Msg(TITLES[self.check])

    @property
    def ok(self) -> bool:
        return self.status == PASS


def result(check: CheckKey, status: CheckStatus, explanation: Msg, fix: Msg | None = None,
           details: Iterable[dict] = ()) -> CheckResult:
    return CheckResult(check, status, explanation, fix, tuple(details))


def skipped(check: CheckKey, why: Msg) -> CheckResult:
    """A check that could not run because an earlier one failed: a warning that says why, never a pass."""
    return result(check, WARNING, Msg("check.not_run", why=why))


def before_linking(outcome: CheckResult) -> CheckResult:
    """`outcome` of a check that cannot be done before the identity is linked: marked as waiting for the link."""
    return replace(outcome, waits_for_link=True)


def with_notes(message: Msg, notes: Iterable[Msg]) -> Msg:
    """A result's words followed by what it was worked out from (older data), when it says so."""
    return joined.sentences([message, *notes])


# ============================================================================ grouping the mapping's problems


@dataclass
class ProblemGroup:
    """One thing to fix (a Gripp VAT rate, a ledger, a ledger+rate pair) and the invoices it affects."""

    code: ProblemCode
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
            "message": self.first.message, "fix": self.first.fix,
        }

    @property
    def message(self) -> Msg:
        """The mapping's own words (they name the rate or ledger) and which invoices it concerns."""
        if not self.dates:
            return self.first.message
        return Msg("check.problem_on_invoices", problem=self.first.message, invoices=_affected(self.numbers,
                                                                                                 self.dates))


def _affected(numbers: list[str], dates: list[date]) -> Msg:
    shown = ", ".join(numbers[:MAX_LISTED]) + ("…" if len(numbers) > MAX_LISTED else "")
    first, last = min(dates), max(dates)
    if first == last:
        return Msg(NN_("check.invoices_on"), n=len(numbers), on=first, numbers=shown)
    return Msg(NN_("check.invoices_between"), n=len(numbers), first=first, last=last, numbers=shown)


def problem_groups(rows: Iterable[dict], ctx: MappingContext, codes: Iterable[ProblemCode]) -> list[ProblemGroup]:
    """Run the mapping's validation on every invoice and group the problems with `codes` by what to fix.

    Problems about a rate or ledger group by their subject (`vat:<id>`, `ledger:<id>`, `ledger:<id>/vat:<id>`);
    per-line or per-invoice ones (a line without a VAT rate, reverse charge mixed in) group by code.
    """
    wanted = frozenset(codes)
    groups: dict[tuple[str, str], ProblemGroup] = {}
    for row in rows:
        invoice = invoice_input(row)
        for problem in check_invoice(invoice, ctx, include_notes=True):
            if problem.code not in wanted:
                continue
            subject = problem.subject if problem.subject.startswith(("vat:", "ledger:", "kostenplaats:")) \
                else problem.code
            key = (problem.code, subject)
            group = groups.get(key)
            if group is None:
                group = groups[key] = ProblemGroup(problem.code, subject, problem, problem.blocking)
            if invoice.number not in group.numbers:
                group.numbers.append(invoice.number)
                group.dates.append(invoice.invoice_date)
    return sorted(groups.values(), key=lambda g: (not g.blocking, g.subject, g.code))


def grouped(check: CheckKey, groups: list[ProblemGroup], notes: Iterable[Msg] = (),
            join: Callable[[Iterable[Msg]], Msg] = joined.listed) -> CheckResult:
    """One result from grouped problems: fail when any blocks an invoice, else a warning; each problem and each
    distinct fix once (`join`: one per line as a list, or one sentence after the other)."""
    status = FAIL if any(g.blocking for g in groups) else WARNING
    by_fix: dict[Msg, list[ProblemGroup]] = {}
    for group in groups:
        by_fix.setdefault(group.first.fix, []).append(group)
    # "Koppel deze BTW-tarieven …" after three rates, not "Koppel dit BTW-tarief …"
    fixes = [shared_fix(same[0].code, fix, len(same)) for fix, same in by_fix.items()]
    return result(check, status, with_notes(join([g.message for g in groups]), notes), join(fixes),
                  [g.detail() for g in groups])


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
    gripp_note: Msg | None = None
    client: SnelStartClient | None = None
    key_ok: bool = False
    key_problem: Msg | None = None  # why the koppelsleutel gave no token, for the checks that needed one
    scopes: tuple[str, ...] | None = None
    reference: bool = False  # SnelStart ledgers and VAT history available (fresh or cached)
    reference_loaded: bool = False  # tried (once, before the first check that needs it)
    reference_note: Msg | None = None

    @property
    def store(self) -> Store:
        return self.services.store

    def rows(self) -> list[dict]:
        start = self.link.start_date if self.link else None
        return invoices_in_scope(self.store, self.identity_id, start)

    def notes(self) -> list[Msg]:
        """Said after a result that worked from older data."""
        return [note for note in (self.gripp_note, self.reference_note) if note is not None]


def check_new_link(services: Services, identity_id: int) -> None:
    """Right after a link is made (a pasted key, an activation): its setup checks, kept as Controles keeps them, so
    the account's health tells from the start what fails (an unmapped VAT rate, a missing ledger) instead of "in
    orde". The dry run is left to Controles (it reads every invoice). Whatever goes wrong here leaves the link made:
    a check that cannot reach SnelStart says so in its outcome, and checks that could not run at all leave the link
    "nog niet gecontroleerd"."""
    try:
        run_checks(services, identity_id, include_dry_run=False)
    except Exception:
        log.exception("the checks after linking identity %s could not run", identity_id)


def run_checks(services: Services, identity_id: int, *, include_dry_run: bool = True,
               only: Iterable[str] | None = None, actor: Actor | str = "system") -> list[CheckResult]:
    """Every check for one identity (or `only` those named), in the order support walks through them. Never
    raises for a broken link."""
    require(actor, "checks")
    run = _Run(services, identity_id, link=setup_repo.get_link(services.store, identity_id))
    steps: list[tuple[CheckKey, Callable[[_Run], CheckResult]]] = [
        (CheckKey.GRIPP, _check_gripp),
        (CheckKey.SUBSCRIPTION, _check_subscription),
        (CheckKey.KOPPELSLEUTEL, _check_koppelsleutel),
        (CheckKey.INTEGRATIONS, _check_integrations),
        (CheckKey.VAT, _check_vat),
        (CheckKey.LEDGERS, _check_ledgers),
        (CheckKey.KOSTENPLAATSEN, _check_kostenplaatsen),
        (CheckKey.DEBTORS, _check_debtors),
        (CheckKey.START_DATE, _check_start_date),
    ]
    if include_dry_run:
        steps.append((CheckKey.DRY_RUN, _check_dry_run))
    if only is not None:
        wanted = set(only)
        steps = [(key, step) for key, step in steps if key in wanted]
    results = []
    try:
        for key, step in steps:
            try:
                if key in (CheckKey.VAT, CheckKey.LEDGERS, CheckKey.KOSTENPLAATSEN, CheckKey.DEBTORS) \
                        and not run.reference_loaded:
                    _load_reference(run)
                    run.reference_loaded = True
                results.append(step(run))
            except Exception as exc:  # a check that trips over something unforeseen says so; the others still run
                log.exception("check %s failed for identity %s", key, identity_id)
                results.append(result(key, FAIL, Msg("check.crashed", error=type(exc).__name__)))
    finally:
        if run.client is not None:
            run.client.close()
        if run.link is not None:  # kept, so the account's health says a failing check without running it again
            try:
                check_results.record(services.store, identity_id,
                                     [(str(r.check), str(r.status), r.explanation.key) for r in results])
            except Exception:  # the results are still shown; only the health summary misses them
                log.exception("could not keep the check results of identity %s", identity_id)
        services.ran()  # the account's health row (a broken link found here shows on the support overview)
    return results


# ================================================================================================ 1. Gripp


def _check_gripp(run: _Run) -> CheckResult:
    services = run.services
    try:
        client = services.gripp()
    except RuntimeError:
        return result(CheckKey.GRIPP, FAIL, Msg("check.gripp.no_token"), Msg("check.gripp.no_token.fix"))
    try:
        answers = client.batch([client.get_call("invoice", first=0, max_results=1),
                                client.get_call("company", first=0, max_results=1)])
    except gripp_errors.GrippAuthError:
        return result(CheckKey.GRIPP, FAIL, Msg("check.gripp.refused"), Msg("check.gripp.refused.fix"))
    except gripp_errors.GrippError as exc:
        return _gripp_unreachable(run, exc)
    readable = (Msg("check.gripp.invoices"), Msg("check.gripp.companies"))
    refused = [what for what, answer in zip(readable, answers, strict=True) if not answer.ok]
    if refused:
        return result(CheckKey.GRIPP, FAIL, Msg("check.gripp.may_not_read", what=refused),
                      Msg("check.gripp.may_not_read.fix"))
    try:
        refresh_gripp(run.store, client)
    except gripp_errors.GrippError as exc:
        return _gripp_unreachable(run, exc)
    proven = outbox.payments_registered(run.store, run.identity_id)
    payments = (Msg("check.gripp.payments_proven", payments=proven) if proven
                else Msg("check.gripp.payments_unproven"))
    return result(CheckKey.GRIPP, PASS, joined.sentences([Msg("check.gripp.works"), payments]))


def _gripp_unreachable(run: _Run, exc: gripp_errors.GrippError) -> CheckResult:
    cached = cache.has_gripp_invoices(run.store, run.identity_id)
    if cached:
        run.gripp_note = Msg("check.note.gripp_cached")
    if isinstance(exc, gripp_errors.GrippQuotaExceeded):
        return result(CheckKey.GRIPP, WARNING, Msg("check.gripp.quota"),
                      Msg("check.gripp.quota.fix", at=exc.resume_at))
    return result(CheckKey.GRIPP, WARNING, Msg("check.gripp.unreachable", error=type(exc).__name__),
                  Msg(TRY_AGAIN_LATER))


# ================================================================================================ 2. subscription


def _check_subscription(run: _Run) -> CheckResult:
    """SnelStart's `GET /echo/{text}` needs only the subscription key (no token, no scope): it tests the partner's
    key on its own, also when a koppelsleutel is broken."""
    settings = run.services.settings
    key = settings.snelstart_subscription_key
    check = CheckKey.SUBSCRIPTION
    if not key:
        return result(check, FAIL, Msg("check.subscription.missing"), Msg("check.subscription.missing.fix"))
    try:
        with httpx.Client(transport=run.services.transport, timeout=15.0) as http:
            answer = http.get(f"{settings.snelstart_api_url}/echo/gripp-link",
                              headers={SUBSCRIPTION_KEY_HEADER: key, "Accept": "application/json"})
    except httpx.HTTPError as exc:
        return result(check, WARNING, Msg("check.subscription.unreachable", error=type(exc).__name__),
                      Msg(TRY_AGAIN_LATER))
    if answer.status_code < 300:
        return result(check, PASS, Msg("check.subscription.accepted"))
    error = ss_errors.error_for_response(answer)
    if answer.status_code == 401 or isinstance(error, ss_errors.SubscriptionKeyError):
        return result(check, FAIL, Msg("check.subscription.refused"), Msg("check.subscription.refused.fix"))
    if error.transient:
        return result(check, WARNING, Msg("check.subscription.busy"), Msg(TRY_AGAIN_LATER))
    return result(check, WARNING, Msg("check.subscription.unexpected", status=str(answer.status_code)))


# ================================================================================================ 3. koppelsleutel


def _check_koppelsleutel(run: _Run) -> CheckResult:
    link = run.link
    store = run.store
    check = CheckKey.KOPPELSLEUTEL
    if link is None:
        run.key_problem = Msg("check.why.not_linked")
        return before_linking(result(check, FAIL, Msg("check.koppelsleutel.not_linked"),
                                     Msg("check.koppelsleutel.not_linked.fix")))
    try:
        # A client of its own, so a new token is minted: a token cached by the sync can outlive a revoked key.
        client = run.services.snelstart_for_key(run.services.vault.decrypt(link.koppelsleutel_enc))
    except VaultError:
        run.key_problem = Msg("check.why.undecryptable")
        return result(check, FAIL, Msg("check.koppelsleutel.undecryptable"),
                      Msg("check.koppelsleutel.undecryptable.fix"))
    run.client = client
    try:
        run.scopes = tuple(client.scopes())
    except ss_errors.SnelStartError as exc:
        return _key_failed(run, exc)
    try:
        info = client.company_info()
    except ss_errors.MissingScopeError:
        run.key_ok = True  # the token works; only the company details are out of reach
        return result(check, FAIL, Msg("check.koppelsleutel.no_company_details", hint=link.key_hint),
                      Msg("check.koppelsleutel.no_company_details.fix"))
    except ss_errors.SubscriptionKeyError:
        run.key_ok = True
        return result(check, WARNING, Msg("check.koppelsleutel.subscription_refused", hint=link.key_hint),
                      Msg("check.koppelsleutel.subscription_refused.fix"))
    except ss_errors.SnelStartError as exc:
        return _key_failed(run, exc)
    run.key_ok = True
    admin_id = str(info.get("administratieIdentifier") or "")
    name = str(info.get("administratieNaam") or link.administration_name)
    if admin_id and admin_id != link.administration_id:
        return result(check, FAIL, Msg("check.koppelsleutel.other_administration", name=name,
                                       linked=link.administration_name),
                      Msg("check.koppelsleutel.other_administration.fix"))
    setup_repo.set_link_health(store, run.identity_id, LinkHealth.OK)
    company = str(info.get("bedrijfsnaam") or "")
    works = (Msg("check.koppelsleutel.works_of", hint=link.key_hint, name=name, company=company)
             if company and company != name else Msg("check.koppelsleutel.works", hint=link.key_hint, name=name))
    shared = shared_administrations(run.services).get(run.identity_id)
    if shared is not None:  # it works, but another link (of any account) books into the same administration
        return result(check, WARNING, Msg("check.koppelsleutel.shared", works=works, shared=shared.message),
                      Msg("check.koppelsleutel.shared.fix"),
                      details=[{"administration_id": link.administration_id, "administration_name": name,
                                "company_name": company}])
    return result(check, PASS, works, details=[{"administration_id": link.administration_id,
                                                "administration_name": name, "company_name": company}])


def _key_failed(run: _Run, exc: ss_errors.SnelStartError) -> CheckResult:
    error = key_error(exc)
    run.key_problem = Msg("check.why.key_broken")
    if error.code == "unavailable":
        run.key_problem = Msg("check.why.snelstart_unreachable")
        return result(CheckKey.KOPPELSLEUTEL, WARNING, error.message, Msg(TRY_AGAIN_LATER))
    if isinstance(exc, ss_errors.KoppelsleutelError | ss_errors.TokenRejectedError):
        setup_repo.set_link_health(run.store, run.identity_id, LinkHealth.BROKEN, error.message)
    hint = run.link.key_hint if run.link else "—"
    return result(CheckKey.KOPPELSLEUTEL, FAIL, Msg("check.koppelsleutel.broken", hint=hint, error=error.message),
                  Msg("check.koppelsleutel.broken.fix"))


# ================================================================================================ 4. integrations


def _check_integrations(run: _Run) -> CheckResult:
    check = CheckKey.INTEGRATIONS
    if run.scopes is None:
        skip = skipped(check, Msg("check.integrations.no_scopes", why=run.key_problem or Msg("check.why.no_token")))
        return before_linking(skip) if run.link is None else skip
    missing = [s for s in REQUIRED_SCOPES if s not in run.scopes]
    details = [{"scope": s, "granted": s in run.scopes} for s in REQUIRED_SCOPES]
    if missing:
        return result(check, FAIL, Msg("check.integrations.missing", scopes=", ".join(missing)),
                      Msg("check.integrations.missing.fix"), details)
    return result(check, PASS, Msg("check.integrations.granted", count=len(REQUIRED_SCOPES)), details=details)


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
        run.reference_note = Msg("check.note.snelstart_cached", hours=int(age.total_seconds() // 3600))


def _reference_missing(check: CheckKey, run: _Run) -> CheckResult:
    if run.link is None:
        return before_linking(skipped(check, Msg("check.why.not_linked")))
    return skipped(check, Msg("check.why.reference_missing", why=run.key_problem or Msg("check.why.no_reference")))


def _context(run: _Run) -> MappingContext:
    assert run.link is not None
    return mapping_context(run.store, run.identity_id, run.link.administration_id,
                           max_total=invoice_ceiling(run.link, run.services.settings))


# ================================================================================================ 5. VAT


_RATES, _LEDGERS = 0, 1  # which half of `used_rates_and_ledgers` a check looks at


def _check_vat(run: _Run) -> CheckResult:
    return _check_mapped(CheckKey.VAT, run, VAT_CODES, _RATES, Msg("check.vat.none_used"), _vat_mapped)


def _vat_mapped(ctx: MappingContext, used: dict[int, dict]) -> tuple[Msg, list[dict]]:
    mapped = ", ".join(f"‘{ctx.vat[i].gripp_label or used[i]['label']}’ → {ctx.vat[i].kind}" for i in sorted(used))
    return (Msg("check.vat.all_mapped", count=len(used), mapped=mapped),
            [{"gripp_vat_id": i, "label": ctx.vat[i].gripp_label or used[i]["label"], "kind": ctx.vat[i].kind,
              "percentage": ctx.vat[i].percentage, "invoices": len(used[i]["invoices"])} for i in sorted(used)])


def _check_mapped(check: CheckKey, run: _Run, codes: frozenset[ProblemCode], which: int, none_used: Msg,
                  all_mapped: Callable[[MappingContext, dict[int, dict]], tuple[Msg, list[dict]]],
                  ) -> CheckResult:
    """The VAT and ledger checks: the problems with these codes on the invoices in scope, else a pass that names
    what is used and how it is mapped (`all_mapped`), or that nothing is used yet."""
    if not run.reference or run.link is None:
        return _reference_missing(check, run)
    rows = run.rows()
    ctx = _context(run)
    groups = problem_groups(rows, ctx, codes)
    used = used_rates_and_ledgers(rows)[which]
    if groups:
        return grouped(check, groups, run.notes())
    if not used:
        return result(check, PASS, with_notes(none_used, run.notes()))
    message, details = all_mapped(ctx, used)
    return result(check, PASS, with_notes(message, run.notes()), details=details)


# ================================================================================================ 6. ledgers


def _check_ledgers(run: _Run) -> CheckResult:
    return _check_mapped(CheckKey.LEDGERS, run, LEDGER_CODES, _LEDGERS, Msg("check.ledgers.none_used"),
                         _ledgers_mapped)


def _ledgers_mapped(ctx: MappingContext, used: dict[int, dict]) -> tuple[Msg, list[dict]]:
    mapped = ", ".join(f"‘{ctx.ledgers[i].gripp_label or used[i]['label']}’ → {ctx.ledgers[i].snelstart_number}"
                       for i in sorted(used))
    return (Msg("check.ledgers.all_mapped", count=len(used), mapped=mapped),
            [{"gripp_ledger_id": i, "label": ctx.ledgers[i].gripp_label or used[i]["label"],
              "snelstart_number": ctx.ledgers[i].snelstart_number, "invoices": len(used[i]["invoices"])}
             for i in sorted(used)])


# ================================================================================================ 6b. kostenplaatsen


def _check_kostenplaatsen(run: _Run) -> CheckResult:
    """Gripp's kostenplaatsen mapped to active SnelStart ones, and every grootboek that demands a kostenplaats given
    one on every line: a problem names the grootboek and the invoices, found before anything is pushed."""
    check = CheckKey.KOSTENPLAATSEN
    if not run.reference or run.link is None:
        return _reference_missing(check, run)
    rows = run.rows()
    ctx = _context(run)
    groups = problem_groups(rows, ctx, KOSTENPLAATS_CODES)
    if groups:
        return grouped(check, groups, run.notes())
    source = Msg(f"kostenplaats_source.{ctx.kostenplaats_source}")
    return result(check, PASS, with_notes(Msg("check.kostenplaatsen.fine", source=source), run.notes()))


# ================================================================================================ 7. debtors


def debtor_overview(store: Store, identity_id: int, administration_id: str, rows: list[dict]) -> dict[str, Any]:
    """How the customers of these invoices meet SnelStart's relaties, by the push's own rules
    (`sync.mapping.customers`): pinned by a person, relatiecode = Gripp customer number, another key (VAT, KvK,
    a relatie the link created, the exact name), to be created — or contradicting keys that block their
    invoices (each with the problem's code as `reason` and its words as `message`)."""
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
                                     "reason": match.problem.code, "message": match.problem.message})
        elif match.how == RELATIECODE:
            out["by_number"].append(entry)
        elif match.how in (PINNED, CREATED, BOOKED):
            out["earlier"].append(entry)
        elif match.how == NEW:
            out["to_create"].append(entry)
        else:
            out["by_other"].append(entry)
    return out


def _check_debtors(run: _Run) -> CheckResult:
    check = CheckKey.DEBTORS
    if not run.reference or run.link is None:
        return _reference_missing(check, run)
    overview = debtor_overview(run.store, run.identity_id, run.link.administration_id, run.rows())
    n_number, n_other = len(overview["by_number"]), len(overview["by_other"]) + len(overview["earlier"])
    n_create, conflicts = len(overview["to_create"]), overview["conflicts"]
    summary = Msg("check.debtors.summary", customers=overview["customers"], by_number=n_number, by_other=n_other,
                  to_create=n_create)
    if not conflicts:
        return result(check, PASS, with_notes(summary, run.notes()), details=[{"summary": {
            "by_number": n_number, "by_other": n_other, "to_create": n_create}}])
    said = [summary, Msg(NN_("check.debtors.contradictions"), n=len(conflicts)),
            *(c["message"] for c in conflicts[:MAX_LISTED])]
    return result(check, WARNING, with_notes(joined.sentences(said), run.notes()), Msg("check.debtors.fix"),
                  conflicts)


# ================================================================================================ 8. start date


def _check_start_date(run: _Run) -> CheckResult:
    link = run.link
    check = CheckKey.START_DATE
    if link is None:
        return before_linking(result(check, FAIL, Msg("check.start_date.not_linked"),
                                     Msg("check.start_date.not_linked.fix")))
    if link.start_date is None:
        return result(check, FAIL, Msg("check.start_date.missing"), Msg("check.start_date.missing.fix"))
    count = len(run.rows())
    start = link.start_date
    if start > run.services.today():
        return result(check, WARNING, Msg("check.start_date.ahead", start=start),
                      Msg("check.start_date.ahead.fix"))
    return result(check, PASS, Msg(NN_("check.start_date.set"), start=start, n=count),
                  details=[{"start_date": start, "invoices": count}])


# ================================================================================================ 9. dry run


def _check_dry_run(run: _Run) -> CheckResult:
    from sync.jobs import plan
    from sync.jobs.locks import AlreadyRunning
    from sync.jobs.preview import preview_identity

    check = CheckKey.DRY_RUN
    if run.link is None:
        return before_linking(skipped(check, Msg("check.why.not_linked")))
    if not run.key_ok:
        return skipped(check, run.key_problem or Msg("check.why.key_broken"))
    try:
        preview = preview_identity(run.services, run.identity_id, actor="check")
    except AlreadyRunning:
        return result(check, WARNING, Msg("check.dry_run.busy"), Msg("check.dry_run.busy.fix"))
    if preview.outcome == Outcome.FAILED:
        return result(check, FAIL, Msg("check.dry_run.failed", reason=preview.reason or ""),
                      Msg("check.dry_run.failed.fix"))
    counts = preview.counts()
    blocked = preview.of(plan.BLOCKED) + preview.of(plan.REFUSED)
    conflicts = preview.of(plan.CONFLICT)
    details = [{"number": line.number, "code": (list(line.codes) or ["REFUSED"])[0], "reason": line.reasons}
               for line in blocked + conflicts]
    values = {"booked": Msg(NN_("check.dry_run.booked"), n=counts[plan.BOOK]), "adopted": counts[plan.ADOPT],
              "blocked": counts[plan.BLOCKED], "payments": Msg(NN_("check.dry_run.payments"), n=counts["payments"])}
    if conflicts:
        said = Msg("check.dry_run.counts_conflicts", **values,
                   conflicts=Msg(NN_("check.dry_run.conflicts"), n=counts[plan.CONFLICT]))
    else:
        said = Msg("check.dry_run.counts", **values)
    if counts[plan.ALREADY_BOOKED]:  # after the first sync most invoices are here: the sentence counts them too
        said = joined.sentences([said, Msg(NN_("check.dry_run.already_booked"), n=counts[plan.ALREADY_BOOKED])])
    if not details:
        return result(check, PASS, said, details=details)
    return result(check, WARNING, said, Msg("check.dry_run.fix"), details)
