"""Why an invoice cannot be booked: one table of problem codes, each with its two catalog keys (what is wrong,
and what to do) and what it keeps from happening in SnelStart.

A problem is its code plus the values its words name — the Gripp VAT rate, ledger or line by label and id,
amounts, dates — so a finance person can act on it without reading logs, in whichever language they read. The
words live in the catalog (`problem.<code>`, `problem.<code>.fix`); `PREVENTS` says which SnelStart error each
check keeps from happening.

A problem is stored (the outbox's reasons, an event's reason) as its code and values (`Problem.to_json`); reasons
stored before the catalog carry their words per language and still read (`stored_message`, `stored_fix`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sync.core import joined
from sync.core.explained import RECORDED
from sync.core.words import LANGUAGES, N_, Msg, jsonable


class ProblemCode(StrEnum):
    """What is wrong. The values are the codes stored in outbox reasons and events since the start."""

    NUMBER_MISSING = "NUMBER_MISSING"
    NUMBER_TOO_LONG = "NUMBER_TOO_LONG"
    AMOUNT_INVALID = "AMOUNT_INVALID"
    AMOUNT_PRECISION = "AMOUNT_PRECISION"
    AMOUNT_TOO_LARGE = "AMOUNT_TOO_LARGE"  # beyond what SnelStart's amount fields hold
    TOTAL_ABOVE_CEILING = "TOTAL_ABOVE_CEILING"  # beyond the ceiling set for the identity
    NO_LINES = "NO_LINES"
    LINE_NO_VAT = "LINE_NO_VAT"
    LINE_NO_LEDGER = "LINE_NO_LEDGER"
    VAT_UNMAPPED = "VAT_UNMAPPED"
    VAT_KIND_INVALID = "VAT_KIND_INVALID"
    VAT_PERCENTAGE_WRONG = "VAT_PERCENTAGE_WRONG"
    VERLEGD_MIXED = "VERLEGD_MIXED"
    LEDGER_UNMAPPED = "LEDGER_UNMAPPED"
    LEDGER_MISSING = "LEDGER_MISSING"
    LEDGER_INACTIVE = "LEDGER_INACTIVE"
    LEDGER_NOT_SALES = "LEDGER_NOT_SALES"
    LEDGER_NOT_SALES_NOTE = "LEDGER_NOT_SALES_NOTE"
    LEDGER_VAT_MISMATCH = "LEDGER_VAT_MISMATCH"
    KOSTENPLAATS_UNMAPPED = "KOSTENPLAATS_UNMAPPED"
    KOSTENPLAATS_MISSING = "KOSTENPLAATS_MISSING"
    KOSTENPLAATS_INACTIVE = "KOSTENPLAATS_INACTIVE"
    KOSTENPLAATS_REQUIRED = "KOSTENPLAATS_REQUIRED"  # a grootboek that demands one, a line without
    TOTAL_MISMATCH = "TOTAL_MISMATCH"
    DUE_DATE_MISSING = "DUE_DATE_MISSING"
    CUSTOMER_CONTRADICTION = "CUSTOMER_CONTRADICTION"  # sync.mapping.customers
    CUSTOMER_AMBIGUOUS = "CUSTOMER_AMBIGUOUS"
    CUSTOMER_PIN_INVALID = "CUSTOMER_PIN_INVALID"
    BOOKING_CONFLICT = "BOOKING_CONFLICT"  # sync.mapping.adoption: a booking found by number
    BOOKING_NOT_VISIBLE = "BOOKING_NOT_VISIBLE"


@dataclass(frozen=True)
class Spec:
    """A problem's catalog keys and what it is: `prevents` is the SnelStart error it keeps from happening (None:
    SnelStart would accept the booking, but it would be wrong — wrong VAT return, revenue on the wrong account, an
    amount that is not Gripp's)."""

    key: str  # problem.<code>: what is wrong
    fix: str  # problem.<code>.fix: what to do about it
    prevents: str | None
    config_error: bool = True
    blocking: bool = True
    # The values the fix names. Most fixes name none, so the invoices one fix clears share it and it is said once.
    fix_values: tuple[str, ...] = ()
    # problem.<code>.fix_many: the fix said once for several problems it clears ("Koppel deze BTW-tarieven …");
    # None when the one-problem words fit several too.
    fix_many: str | None = None


_C = ProblemCode
PROBLEMS: dict[ProblemCode, Spec] = {
    _C.NUMBER_MISSING: Spec(N_("problem.number_missing"), N_("problem.number_missing.fix"),
                            "BOE-0058"),  # factuurnummer required
    _C.NUMBER_TOO_LONG: Spec(N_("problem.number_too_long"), N_("problem.number_too_long.fix"),
                             "BOE-0058"),  # factuurnummer ≤ 25
    _C.AMOUNT_INVALID: Spec(N_("problem.amount_invalid"), N_("problem.amount_invalid.fix"),
                            "BOE-0039"),  # not in balance
    _C.AMOUNT_PRECISION: Spec(N_("problem.amount_precision"), N_("problem.amount_precision.fix"), "BOE-0039"),
    # An amount SnelStart cannot hold: refused, or kept as another amount.
    _C.AMOUNT_TOO_LARGE: Spec(N_("problem.amount_too_large"), N_("problem.amount_too_large.fix"), None),
    # SnelStart would book it: an amount no one meant (a typo's 10¹² × € 12,34), with its PDF. The fix names the
    # ceiling, so support knows what to raise when the amount is right.
    _C.TOTAL_ABOVE_CEILING: Spec(N_("problem.total_above_ceiling"), N_("problem.total_above_ceiling.fix"), None,
                                 fix_values=("ceiling",)),
    _C.NO_LINES: Spec(N_("problem.no_lines"), N_("problem.no_lines.fix"),
                      "BOE-0023"),  # no boekingsregels (and BOE-0028, a zero line)
    _C.LINE_NO_VAT: Spec(N_("problem.line_no_vat"), N_("problem.line_no_vat.fix"), "BOE-0069",
                         fix_many=N_("problem.line_no_vat.fix_many")),  # invalid btw
    _C.LINE_NO_LEDGER: Spec(N_("problem.line_no_ledger"), N_("problem.line_no_ledger.fix"),
                            "BOE-0089",
                            fix_many=N_("problem.line_no_ledger.fix_many")),  # grootboek not found
    _C.VAT_UNMAPPED: Spec(N_("problem.vat_unmapped"), N_("problem.vat_unmapped.fix"), "BOE-0069",
                          fix_many=N_("problem.vat_unmapped.fix_many")),
    _C.VAT_KIND_INVALID: Spec(N_("problem.vat_kind_invalid"), N_("problem.vat_kind_invalid.fix"), "BOE-0069",
                              fix_many=N_("problem.vat_kind_invalid.fix_many")),
    # SnelStart books whatever VAT it is given: the VAT return would be wrong.
    _C.VAT_PERCENTAGE_WRONG: Spec(N_("problem.vat_percentage_wrong"), N_("problem.vat_percentage_wrong.fix"), None,
                                  fix_values=("mapped",),
                                  fix_many=N_("problem.vat_percentage_wrong.fix_many")),
    _C.VERLEGD_MIXED: Spec(N_("problem.verlegd_mixed"), N_("problem.verlegd_mixed.fix"), "BOE-0062"),
    _C.LEDGER_UNMAPPED: Spec(N_("problem.ledger_unmapped"), N_("problem.ledger_unmapped.fix"), "BOE-0089",
                             fix_many=N_("problem.ledger_unmapped.fix_many")),
    _C.LEDGER_MISSING: Spec(N_("problem.ledger_missing"), N_("problem.ledger_missing.fix"), "BOE-0089",
                            fix_values=("ss_number",),
                            fix_many=N_("problem.ledger_missing.fix_many")),
    _C.LEDGER_INACTIVE: Spec(N_("problem.ledger_inactive"), N_("problem.ledger_inactive.fix"),
                             "BOE-0008", fix_values=("ss_number",),  # booking on a non-active account (ALG-0105)
                             fix_many=N_("problem.ledger_inactive.fix_many")),
    # Revenue on a bank/VAT/balance account: accepted, and wrong.
    _C.LEDGER_NOT_SALES: Spec(N_("problem.ledger_not_sales"), N_("problem.ledger_not_sales.fix"), None,
                              fix_many=N_("problem.ledger_not_sales.fix_many")),
    _C.LEDGER_NOT_SALES_NOTE: Spec(N_("problem.ledger_not_sales_note"), N_("problem.ledger_not_sales_note.fix"),
                                   None, blocking=False),
    _C.LEDGER_VAT_MISMATCH: Spec(N_("problem.ledger_vat_mismatch"), N_("problem.ledger_vat_mismatch.fix"),
                                 "BOE-0082", fix_values=("kind", "ss_number", "accepts"),
                                 fix_many=N_("problem.ledger_vat_mismatch.fix_many")),
    # [GUESS] SnelStart's codes for a kostenplaats that does not exist, is not active, or is missing where the grootboek
    # demands one are not in the spec; the sandbox's (BOE-0105, BOE-0106, BOE-0104) are made up in its style.
    _C.KOSTENPLAATS_UNMAPPED: Spec(N_("problem.kostenplaats_unmapped"), N_("problem.kostenplaats_unmapped.fix"),
                                   "BOE-0105", fix_many=N_("problem.kostenplaats_unmapped.fix_many")),
    _C.KOSTENPLAATS_MISSING: Spec(N_("problem.kostenplaats_missing"), N_("problem.kostenplaats_missing.fix"),
                                  "BOE-0105", fix_values=("ss_number",)),
    _C.KOSTENPLAATS_INACTIVE: Spec(N_("problem.kostenplaats_inactive"), N_("problem.kostenplaats_inactive.fix"),
                                   "BOE-0106", fix_values=("ss_number",)),
    _C.KOSTENPLAATS_REQUIRED: Spec(N_("problem.kostenplaats_required"), N_("problem.kostenplaats_required.fix"),
                                   "BOE-0104", fix_values=("ss_number",)),
    _C.TOTAL_MISMATCH: Spec(N_("problem.total_mismatch"), N_("problem.total_mismatch.fix"),
                            "BOE-0039"),  # and a booking whose amount is not the invoice's
    _C.DUE_DATE_MISSING: Spec(N_("problem.due_date_missing"), N_("problem.due_date_missing.fix"), None,
                              blocking=False),
    # SnelStart would book it, on whichever relatie we picked.
    _C.CUSTOMER_CONTRADICTION: Spec(N_("problem.customer_contradiction"), N_("problem.customer_contradiction.fix"),
                                    None),
    _C.CUSTOMER_AMBIGUOUS: Spec(N_("problem.customer_ambiguous"), N_("problem.customer_ambiguous.fix"), None),
    _C.CUSTOMER_PIN_INVALID: Spec(N_("problem.customer_pin_invalid"), N_("problem.customer_pin_invalid.fix"),
                                  "BOE-0060"),  # the relatie does not exist or is not a Klant
    # The fix says where the button is, for the run log, the CSV and the dry run; the card beside the button says it
    # in its own words (console/records.py).
    _C.BOOKING_CONFLICT: Spec(N_("problem.booking_conflict"), N_("problem.booking_conflict.fix"),
                              "BOE-0021"),  # and a foreign booking adopted as ours
    _C.BOOKING_NOT_VISIBLE: Spec(N_("problem.booking_not_visible"), N_("problem.booking_not_visible.fix"),
                                 "BOE-0021"),
}
PREVENTS: dict[ProblemCode, str | None] = {code: spec.prevents for code, spec in PROBLEMS.items()}
# Problems only with how the link would book its lines' kostenplaatsen. Adopting a booking SnelStart already has
# books no lines, so these never keep a fitting booking from being adopted (`sync.jobs.plan.decide`); they do block
# booking a new one.
LINE_KOSTENPLAATS_CODES = frozenset({_C.KOSTENPLAATS_UNMAPPED, _C.KOSTENPLAATS_MISSING, _C.KOSTENPLAATS_INACTIVE,
                                     _C.KOSTENPLAATS_REQUIRED})

assert PROBLEMS.keys() == set(ProblemCode)

# Parts of the problems' sentences, named where the values are chosen.
WITH_FIX = N_("problem.with_fix")  # "{problem} {fix}"


@dataclass(frozen=True)
class Problem:
    """Why an invoice cannot be booked (or, with `blocking=False`, a note that does not stop it): its code and the
    values its words name (labels and ids as text, amounts as `Decimal`, dates, counts, messages).

    `subject` is a stable key for what the fix is about — ``vat:<gripp id>``, ``ledger:<gripp id>``,
    ``ledger:<id>/vat:<id>``, ``ledger:<id>/kostenplaats``, ``kostenplaats:<gripp id>``, ``line:<gripp line id>``,
    ``company:<gripp id>`` or ``invoice:<gripp id>`` — so the console can group the invoices one mapping blocks and
    clear them together once it is fixed.
    """

    code: ProblemCode
    subject: str
    values: Mapping[str, Any] = field(default_factory=dict)
    config_error: bool = True
    blocking: bool = True

    @property
    def message(self) -> Msg:
        """What is wrong."""
        return Msg(PROBLEMS[self.code].key, **self.values)

    @property
    def fix(self) -> Msg:
        """What to do about it (equal for every problem the same change fixes)."""
        spec = PROBLEMS[self.code]
        return Msg(spec.fix, **{name: self.values[name] for name in spec.fix_values if name in self.values})

    @property
    def with_fix(self) -> Msg:
        """What is wrong followed by what to do about it."""
        return Msg(WITH_FIX, problem=self.message, fix=self.fix)

    def to_json(self) -> dict[str, Any]:
        """What the store keeps: the code and the values (amounts and dates as text, which the words read back)."""
        return {"code": str(self.code), "subject": self.subject, "values": jsonable(dict(self.values)),
                "config_error": self.config_error, "blocking": self.blocking}


def make_problem(code: ProblemCode, subject: str, **values: Any) -> Problem:
    spec = PROBLEMS[code]
    return Problem(code, subject, values, config_error=spec.config_error, blocking=spec.blocking)


def explained(problems: Iterable[Problem]) -> Msg:
    """Every problem of an invoice with its fix, as one message: for the log, the dry run and the CSV. Problems one
    fix clears are said together with that fix once ("… ‘21%’ … ‘9%’ … Koppel deze BTW-tarieven …")."""
    by_fix: dict[Msg, list[Problem]] = {}
    for problem in problems:
        by_fix.setdefault(problem.fix, []).append(problem)
    return joined.sentences(Msg(WITH_FIX, problem=joined.sentences(p.message for p in group),
                                fix=shared_fix(group[0].code, fix, len(group))) for fix, group in by_fix.items())


def shared_fix(code: ProblemCode | str, fix: Msg, n: int) -> Msg:
    """`fix` said once for `n` problems of `code`: in its words for several when there are several and it has them."""
    many = PROBLEMS[ProblemCode(code)].fix_many if code in PROBLEMS else None
    return Msg(many, **fix.values) if n > 1 and many else fix


# ------------------------------------------------------------------------------------------ stored reasons


def stored_message(reason: Mapping[str, Any]) -> Msg:
    """What a stored reason says, whichever way it was stored:
    - a problem: its code and values (`Problem.to_json`);
    - another reason (SnelStart's refusal, say): its code and a message (`{"code", "message": <Msg JSON>}`);
    - before the catalog: its words per language, `<lang>` and `fix_<lang>` (`{"code", "nl", "en", …}`)."""
    values = reason.get("values")
    code = reason.get("code")
    if isinstance(values, dict) and code in PROBLEMS:
        return _problem_msg(PROBLEMS[ProblemCode(code)].key, values)
    message = Msg.from_json(reason.get("message"))
    if message is not None:
        return message
    return Msg(RECORDED, text={lang: str(reason.get(lang) or "") for lang in LANGUAGES})


def stored_fix(reason: Mapping[str, Any]) -> Msg | None:
    """What to do about a stored reason, when it says (see `stored_message` for the shapes)."""
    values = reason.get("values")
    code = reason.get("code")
    if isinstance(values, dict) and code in PROBLEMS:
        spec = PROBLEMS[ProblemCode(code)]
        return _problem_msg(spec.fix, {name: values[name] for name in spec.fix_values if name in values})
    if "message" in reason:
        return None
    recorded = {lang: str(reason.get(f"fix_{lang}") or "") for lang in LANGUAGES}
    return Msg(RECORDED, text=recorded) if any(recorded.values()) else None


def stored_explained(reasons: Iterable[Mapping[str, Any]]) -> Msg | None:
    """Every stored reason with its fix, as one message; None when there is none. Reasons one fix clears are said
    together with that fix once, as `explained` says them."""
    by_fix: dict[object, list[Mapping[str, Any]]] = {}
    for reason in reasons:
        said_fix = stored_fix(reason)  # a reason without a fix stands alone
        by_fix.setdefault(said_fix if said_fix is not None else object(), []).append(reason)
    found = []
    for fix, group in by_fix.items():
        message = joined.sentences(stored_message(reason) for reason in group)
        found.append(Msg(WITH_FIX, problem=message, fix=shared_fix(str(group[0].get("code")), fix, len(group)))
                     if isinstance(fix, Msg) else message)
    return joined.sentences(found) if found else None


def _problem_msg(key: str, values: Mapping[str, Any]) -> Msg:
    return Msg.from_json({"msg": key, "values": dict(values)}) or Msg(key)
