"""What errors mean for a run, in one table.

Kinds (what the engine does):
  config     a person must fix something (a mapping, an invoice, a refused booking): the invoice waits, with why
  transient  the service was busy, unreachable or sent something unreadable: tried again next run
  unknown    a write may or may not have happened: look it up before writing again
  link       the link itself is broken (keys revoked, not allowed): stop this identity, leave the others running
  paused     a budget is spent until a known time (Gripp's hourly quota): stop cleanly, resume then
  store      our own database could not be written: stop the run; nothing half-written, the next run resumes

`service_down` says which transient errors mean "the whole service is unavailable now" (rather than one request
going wrong): the push stops talking to it for the rest of the run instead of trying every invoice in turn.
`describe` gives every error one Dutch and one English line a finance person can read.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from sync.core.explained import Explained
from sync.gripp import errors as gripp_errors
from sync.snelstart import errors as ss_errors

CONFIG, TRANSIENT, LINK, UNKNOWN, PAUSED, STORE = "config", "transient", "link", "unknown", "paused", "store"
MAX_PDF_MB = 10


class LinkBroken(Explained, RuntimeError):
    """SnelStart no longer accepts this identity's keys: stop this identity, leave the others running."""


class GrippUnavailable(Explained, RuntimeError):
    """Gripp cannot be read now; `nl`/`en` say why."""


class PdfTooLarge(ValueError):
    """SnelStart refuses documents over 10 MB (BLG-0006): sending it would only be refused."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the PDF is {size / (1024 * 1024):.1f} MB; SnelStart accepts at most {MAX_PDF_MB} MB")
        self.size = size


def kind_of(exc: BaseException) -> str:
    if isinstance(exc, LinkBroken):
        return LINK
    if isinstance(exc, ss_errors.SubscriptionKeyError | ss_errors.KoppelsleutelError | ss_errors.TokenRejectedError
                  | ss_errors.MissingScopeError):
        return LINK
    if isinstance(exc, gripp_errors.GrippAuthError):
        return LINK
    if isinstance(exc, gripp_errors.GrippQuotaExceeded):
        return PAUSED
    if isinstance(exc, duckdb.Error):
        return STORE
    if isinstance(exc, ss_errors.OutcomeUnknownError | gripp_errors.GrippOutcomeUnknownError):
        return UNKNOWN
    if isinstance(exc, ss_errors.SnelStartError) and exc.transient:
        return TRANSIENT
    if isinstance(exc, gripp_errors.GrippTransientError | ss_errors.ResponseFormatError
                  | gripp_errors.GrippResponseError):
        return TRANSIENT
    if isinstance(exc, gripp_errors.GrippPdfError) and _pdf_unreachable(exc):
        return TRANSIENT
    return CONFIG


def service_down(exc: BaseException) -> bool:
    """SnelStart kept throttling past our retries, or cannot be reached: stop calling it this run."""
    return isinstance(exc, ss_errors.RateLimitError | ss_errors.SnelStartConnectionError
                      | ss_errors.SnelStartTimeoutError | ss_errors.ServerError)


def resume_at(exc: BaseException) -> datetime | None:
    """When a paused service takes requests again."""
    return getattr(exc, "resume_at", None)


def kind_unless_fatal(exc: BaseException) -> str:
    """The kind of a failure the caller can carry on after; raises what stops the whole run instead (the link is
    broken, the database refuses writes)."""
    kind = kind_of(exc)
    if kind == LINK:
        raise link_broken(exc) from exc
    if kind == STORE:
        raise exc
    return kind


def link_broken(exc: BaseException) -> LinkBroken:
    if isinstance(exc, LinkBroken):
        return exc
    if isinstance(exc, ss_errors.SubscriptionKeyError):
        return LinkBroken(
            "SnelStart weigert de abonnementssleutel (subscription key) van deze koppeling; alle administraties "
            "zijn geraakt. Vraag een nieuwe sleutel aan in het SnelStart-ontwikkelaarsportaal.",
            "SnelStart refuses the subscription key of this link (every administration is affected). Get a new "
            "key from the SnelStart developer portal.",
        )
    if isinstance(exc, ss_errors.MissingScopeError):
        return LinkBroken(
            "Het SnelStart-abonnement staat deze handeling niet toe (ontbrekende rechten). Controleer of het "
            "abonnement koppelingen toestaat en koppel de administratie opnieuw.",
            "The SnelStart subscription does not allow this (missing scope). Check that the subscription allows "
            "integrations and link the administration again.",
        )
    if isinstance(exc, gripp_errors.GrippAuthError):
        return LinkBroken(
            "Gripp weigert de API-sleutel. Maak een nieuwe sleutel onder Instellingen › API-rollen.",
            "Gripp refuses the API key. Create a new key under Settings › API roles.",
        )
    return LinkBroken(
        "De koppelsleutel van deze administratie werkt niet meer (ingetrokken of ongeldig). Koppel de "
        "administratie opnieuw via Koppelen.",
        "This administration's koppelsleutel no longer works (revoked or invalid). Link the administration "
        "again under Linking.",
    )


def describe(exc: BaseException) -> tuple[str, str]:
    """A one-line Dutch and English explanation of an error for the event log: what happened and what follows."""
    again_nl, again_en = "de volgende run probeert het opnieuw.", "the next run tries again."
    if isinstance(exc, LinkBroken):
        return exc.nl, exc.en
    if isinstance(exc, ss_errors.SnelStartBadRequest):
        detail = "; ".join(f"{c}" for c in exc.codes) or "400"
        text = "; ".join(exc.messages)[:300]
        return (f"SnelStart weigerde dit ({detail}): {text}", f"SnelStart refused this ({detail}): {text}")
    if isinstance(exc, ss_errors.RateLimitError):
        return (f"SnelStart was te druk (limiet bereikt, ook na wachten); {again_nl}",
                f"SnelStart was busy (rate limit, still after waiting); {again_en}")
    if isinstance(exc, gripp_errors.GrippQuotaExceeded):
        when = exc.resume_at.strftime("%H:%M")
        return (f"Het uurquotum van de Gripp-API is op; de synchronisatie gaat verder vanaf {when}.",
                f"Gripp's hourly API quota is spent; the sync resumes at {when}.")
    if isinstance(exc, gripp_errors.GrippBusyError):
        return (f"Gripp was te druk (bleef 'even wachten' antwoorden); {again_nl}",
                f"Gripp was busy (it kept throttling); {again_en}")
    if isinstance(exc, PdfTooLarge):
        size = f"{exc.size / (1024 * 1024):.1f}"
        return (f"de PDF is {size.replace('.', ',')} MB en SnelStart neemt hoogstens {MAX_PDF_MB} MB aan. Maak de "
                "PDF in Gripp kleiner (minder of kleinere afbeeldingen in het factuursjabloon) of voeg hem met de "
                "hand toe in SnelStart; de boeking zelf staat er al.",
                f"the PDF is {size} MB and SnelStart accepts at most {MAX_PDF_MB} MB. Make the PDF smaller in Gripp "
                "(fewer or smaller images in the invoice template) or attach it by hand in SnelStart; the booking "
                "itself is there.")
    if isinstance(exc, gripp_errors.GrippPdfError):
        if _pdf_unreachable(exc):
            return (f"Gripp gaf de PDF niet ({exc}); {again_nl}", f"Gripp did not hand out the PDF ({exc}); "
                                                                 f"{again_en}")
        return (f"wat Gripp als PDF gaf is geen PDF ({exc.message}). Open de factuur in Gripp en controleer de PDF; "
                f"{again_nl}",
                f"what Gripp sent as the PDF is not a PDF ({exc.message}). Open the invoice in Gripp and check its "
                f"PDF; {again_en}")
    if isinstance(exc, ss_errors.ResponseFormatError):
        return (f"Het antwoord van SnelStart was niet te lezen ({exc.message}); er is niets op gebaseerd "
                f"geschreven, {again_nl}",
                f"SnelStart's answer could not be read ({exc.message}); nothing was written on the strength of it, "
                f"{again_en}")
    if isinstance(exc, gripp_errors.GrippResponseError):
        return (f"Het antwoord van Gripp was niet te lezen ({exc.message}); er is niets op gebaseerd geschreven, "
                f"{again_nl}",
                f"Gripp's answer could not be read ({exc.message}); nothing was written on the strength of it, "
                f"{again_en}")
    if isinstance(exc, ss_errors.SnelStartConnectionError | ss_errors.SnelStartTimeoutError
                  | ss_errors.ServerError):
        return (f"SnelStart was niet bereikbaar ({exc.message}); {again_nl}",
                f"SnelStart could not be reached ({exc.message}); {again_en}")
    if isinstance(exc, gripp_errors.GrippTransientError):
        return (f"Gripp was niet bereikbaar ({exc.message}); {again_nl}",
                f"Gripp could not be reached ({exc.message}); {again_en}")
    if isinstance(exc, duckdb.Error):
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return (f"De lokale database kon niet worden geschreven ({detail}). Controleer de schijf (ruimte, rechten); "
                "er is niets half geschreven en de volgende run gaat verder waar deze stopte.",
                f"The local database could not be written ({detail}). Check the disk (space, permissions); nothing "
                "was half-written and the next run continues where this one stopped.")
    kind = kind_of(exc)
    if kind in (TRANSIENT, UNKNOWN):
        return (f"Tijdelijke storing: {exc}; {again_nl}", f"Temporary failure: {exc}; {again_en}")
    return (f"Fout: {exc}", f"Error: {exc}")


def _pdf_unreachable(exc: gripp_errors.GrippPdfError) -> bool:
    """No answer, a throttle or a server error: the PDF may well be fine (as opposed to 'not a PDF')."""
    status = exc.http_status
    return status is None or status in (429, 503) or status >= 500
