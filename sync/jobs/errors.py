"""What errors mean for a run, in one table (`MEANINGS`): the kind of failure — what the engine does next — and
what to tell a person, for every error the clients and the store raise. The first row that matches decides, so the
most specific rows come first.

Kinds (`ErrorKind`, what the engine does):
  config     a person must fix something (a mapping, an invoice, a refused booking): the invoice waits, with why
  transient  the service was busy, unreachable or sent something unreadable: tried again next run
  unknown    a write may or may not have happened: look it up before writing again
  link       the link itself is broken (keys revoked, not allowed): stop this identity, leave the others running
  paused     a budget is spent until a known time (Gripp's hourly quota): stop cleanly, resume then
  store      our own database could not be written: stop the run; nothing half-written, the next run resumes

`service_down` says which transient errors mean "the whole service is unavailable now" (rather than one request
going wrong): the push stops talking to it for the rest of the run instead of trying every invoice in turn.
`explain` says every error as a message a finance person can read (a catalog key with its values).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import duckdb

from sync.core.explained import Explained
from sync.core.words import N_, Msg
from sync.gripp import errors as gripp_errors
from sync.snelstart import errors as ss_errors


class ErrorKind(StrEnum):
    CONFIG = "config"
    TRANSIENT = "transient"
    LINK = "link"
    UNKNOWN = "unknown"
    PAUSED = "paused"
    STORE = "store"


CONFIG, TRANSIENT, LINK = ErrorKind.CONFIG, ErrorKind.TRANSIENT, ErrorKind.LINK
UNKNOWN, PAUSED, STORE = ErrorKind.UNKNOWN, ErrorKind.PAUSED, ErrorKind.STORE
MAX_PDF_MB = 10


class LinkBroken(Explained, RuntimeError):
    """SnelStart (or Gripp) no longer accepts this identity's keys: stop this identity, leave the others running."""


class PdfTooLarge(ValueError):
    """SnelStart refuses documents over 10 MB (BLG-0006): sending it would only be refused."""

    def __init__(self, size: int) -> None:
        super().__init__(f"PDF of {size} bytes, over {MAX_PDF_MB} MB")
        self.size = size


# -- what to tell a person -----------------------------------------------------------------------------------------
def _says(key: str) -> Callable[[BaseException], Msg]:
    return lambda exc: Msg(key)


def _detail(key: str) -> Callable[[BaseException], Msg]:
    """The message with the error's own detail (the service's words, which we do not translate)."""
    return lambda exc: Msg(key, detail=str(getattr(exc, "message", None) or exc))


def _whole(key: str) -> Callable[[BaseException], Msg]:
    """The message with the error's whole text (its codes and HTTP status too)."""
    return lambda exc: Msg(key, detail=str(exc))


def _refused(exc: BaseException) -> Msg:
    codes = list(getattr(exc, "codes", []) or [])
    return Msg(N_("error.snelstart_refused"), codes="; ".join(str(c) for c in codes) or "400",
               detail="; ".join(getattr(exc, "messages", []) or [])[:300])


def _quota(exc: BaseException) -> Msg:
    return Msg(N_("error.gripp_quota"), resumes_at=getattr(exc, "resume_at", None))


def _pdf_too_large(exc: BaseException) -> Msg:
    size = getattr(exc, "size", 0)
    return Msg(N_("error.pdf_too_large"), size=Decimal(f"{size / (1024 * 1024):.1f}"), most=MAX_PDF_MB)


def _pdf_unreachable(exc: BaseException) -> bool:
    """No answer, a throttle or a server error: the PDF may well be fine (as opposed to 'not a PDF')."""
    status = getattr(exc, "http_status", None)
    return status is None or status in (429, 503) or status >= 500


def _store_detail(exc: BaseException) -> Msg:
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return Msg(N_("error.store_unwritable"), detail=detail)


def _transient(exc: BaseException) -> bool:
    return bool(getattr(exc, "transient", False))


SUBSCRIPTION_KEY = Msg(N_("error.link.subscription_key"))
MISSING_SCOPE = Msg(N_("error.link.missing_scope"))
GRIPP_KEY = Msg(N_("error.link.gripp_key"))
KOPPELSLEUTEL = Msg(N_("error.link.koppelsleutel"))


@dataclass(frozen=True)
class Meaning:
    """One row of the table: errors of these types (and, with `when`, only those it holds for) are of this kind,
    and this is what a person reads about them."""

    errors: tuple[type[BaseException], ...]
    kind: ErrorKind
    says: Callable[[BaseException], Msg]
    when: Callable[[BaseException], bool] | None = None

    def matches(self, exc: BaseException) -> bool:
        return isinstance(exc, self.errors) and (self.when is None or self.when(exc))


MEANINGS: tuple[Meaning, ...] = (
    # the link itself: this identity stops
    Meaning((LinkBroken,), LINK, lambda exc: exc.message if isinstance(exc, Explained) else KOPPELSLEUTEL),
    Meaning((ss_errors.SubscriptionKeyError,), LINK, lambda exc: SUBSCRIPTION_KEY),
    Meaning((ss_errors.MissingScopeError,), LINK, lambda exc: MISSING_SCOPE),
    Meaning((ss_errors.KoppelsleutelError, ss_errors.TokenRejectedError), LINK, lambda exc: KOPPELSLEUTEL),
    Meaning((gripp_errors.GrippAuthError,), LINK, lambda exc: GRIPP_KEY),
    # budgets and our own database
    Meaning((gripp_errors.GrippQuotaExceeded,), PAUSED, _quota),
    Meaning((duckdb.Error,), STORE, _store_detail),
    # a write whose outcome is unknown: looked up before anything is written again
    Meaning((ss_errors.UnreadableWriteAnswerError,), UNKNOWN, _detail(N_("error.snelstart_unreadable"))),
    Meaning((ss_errors.OutcomeUnknownError, gripp_errors.GrippOutcomeUnknownError), UNKNOWN,
            _whole(N_("error.temporary"))),
    # SnelStart busy, unreachable or unreadable: the next run tries again
    Meaning((ss_errors.RateLimitError,), TRANSIENT, _says(N_("error.snelstart_busy"))),
    Meaning((ss_errors.ResponseFormatError,), TRANSIENT, _detail(N_("error.snelstart_unreadable"))),
    Meaning((ss_errors.SnelStartConnectionError, ss_errors.SnelStartTimeoutError, ss_errors.ServerError), TRANSIENT,
            _detail(N_("error.snelstart_unreachable"))),
    Meaning((ss_errors.SnelStartError,), TRANSIENT, _whole(N_("error.temporary")), when=_transient),
    Meaning((ss_errors.SnelStartBadRequest,), CONFIG, _refused),
    # Gripp busy, unreachable or unreadable
    Meaning((gripp_errors.GrippBusyError,), TRANSIENT, _says(N_("error.gripp_busy"))),
    Meaning((gripp_errors.GrippResponseError,), TRANSIENT, _detail(N_("error.gripp_unreadable"))),
    Meaning((gripp_errors.GrippTransientError,), TRANSIENT, _detail(N_("error.gripp_unreachable"))),
    # the invoice's PDF
    Meaning((gripp_errors.GrippPdfError,), TRANSIENT, _whole(N_("error.pdf_unreachable")), when=_pdf_unreachable),
    Meaning((gripp_errors.GrippPdfError,), CONFIG, _detail(N_("error.pdf_invalid"))),
    Meaning((PdfTooLarge,), CONFIG, _pdf_too_large),
    # anything else: a person looks at it
    Meaning((BaseException,), CONFIG, _whole(N_("error.other"))),
)


def meaning(exc: BaseException) -> Meaning:
    return next(row for row in MEANINGS if row.matches(exc))


def kind_of(exc: BaseException) -> ErrorKind:
    return meaning(exc).kind


def explain(exc: BaseException) -> Msg:
    """What happened and what follows, for the event log and the run's reason."""
    return meaning(exc).says(exc)


def service_down(exc: BaseException) -> bool:
    """SnelStart kept throttling past our retries, or cannot be reached: stop calling it this run."""
    return isinstance(exc, ss_errors.RateLimitError | ss_errors.SnelStartConnectionError
                      | ss_errors.SnelStartTimeoutError | ss_errors.ServerError)


def resume_at(exc: BaseException) -> datetime | None:
    """When a paused service takes requests again."""
    return getattr(exc, "resume_at", None)


def kind_unless_fatal(exc: BaseException) -> ErrorKind:
    """The kind of a failure the caller can carry on after; raises what stops the whole run instead (the link is
    broken, the database refuses writes)."""
    kind = kind_of(exc)
    if kind == LINK:
        raise link_broken(exc) from exc
    if kind == STORE:
        raise exc
    return kind


def link_broken(exc: BaseException) -> LinkBroken:
    """The error as a broken link, saying which key no longer works."""
    if isinstance(exc, LinkBroken):
        return exc
    found = meaning(exc)
    if found.kind != LINK:
        return LinkBroken(KOPPELSLEUTEL, code="koppelsleutel")
    return LinkBroken(found.says(exc), code=found.says(exc).key.rsplit(".", 1)[-1])
