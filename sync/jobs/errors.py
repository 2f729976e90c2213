"""What errors mean for a run, in one table: a person must fix something (config), the service was busy or
unreachable (transient: tried again next run), or the link itself is broken (keys revoked or not allowed)."""

from __future__ import annotations

from sync.gripp import errors as gripp_errors
from sync.snelstart import errors as ss_errors

CONFIG, TRANSIENT, LINK, UNKNOWN = "config", "transient", "link", "unknown"


class LinkBroken(RuntimeError):
    """SnelStart no longer accepts this identity's keys: stop this identity, leave the others running."""

    def __init__(self, nl: str, en: str) -> None:
        super().__init__(en)
        self.nl, self.en = nl, en


class GrippUnavailable(RuntimeError):
    def __init__(self, nl: str, en: str) -> None:
        super().__init__(en)
        self.nl, self.en = nl, en


def kind_of(exc: BaseException) -> str:
    if isinstance(exc, ss_errors.SubscriptionKeyError | ss_errors.KoppelsleutelError | ss_errors.TokenRejectedError
                  | ss_errors.MissingScopeError):
        return LINK
    if isinstance(exc, gripp_errors.GrippAuthError):
        return LINK
    if isinstance(exc, ss_errors.OutcomeUnknownError | gripp_errors.GrippOutcomeUnknownError):
        return UNKNOWN
    if isinstance(exc, ss_errors.SnelStartError) and exc.transient:
        return TRANSIENT
    if isinstance(exc, gripp_errors.GrippTransientError | ss_errors.ResponseFormatError
                  | gripp_errors.GrippResponseError):
        return TRANSIENT
    return CONFIG


def link_broken(exc: BaseException) -> LinkBroken:
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
    """A one-line Dutch and English explanation of an error for the event log."""
    if isinstance(exc, ss_errors.SnelStartBadRequest):
        detail = "; ".join(f"{c}" for c in exc.codes) or "400"
        text = "; ".join(exc.messages)[:300]
        return (f"SnelStart weigerde dit ({detail}): {text}", f"SnelStart refused this ({detail}): {text}")
    if isinstance(exc, ss_errors.RateLimitError):
        return ("SnelStart was te druk (limiet bereikt); de volgende run probeert het opnieuw.",
                "SnelStart was busy (rate limit); the next run tries again.")
    if isinstance(exc, gripp_errors.GrippQuotaExceeded):
        when = exc.resume_at.strftime("%H:%M")
        return (f"Het uurquotum van de Gripp-API is op; verder vanaf {when}.",
                f"Gripp's hourly API quota is spent; resuming from {when}.")
    if isinstance(exc, gripp_errors.GrippPdfError):
        return (f"De PDF van de factuur kon niet worden opgehaald: {exc}",
                f"The invoice PDF could not be fetched: {exc}")
    kind = kind_of(exc)
    if kind == TRANSIENT:
        return (f"Tijdelijke storing ({type(exc).__name__}); de volgende run probeert het opnieuw: {exc}",
                f"Temporary failure ({type(exc).__name__}); the next run tries again: {exc}")
    return (f"Fout: {exc}", f"Error: {exc}")
