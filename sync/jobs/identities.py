"""The Gripp identities a console knows: found on Gripp's invoices and companies, added by id, removed.

Gripp has no identity entity (see the reference): an identity is real when an invoice or a company carries it, and
its name comes from there. Each identity found or added for the first time goes into the event log with who did it.
"""

from __future__ import annotations

from sync.auth.access import Actor, authorize
from sync.core.events import EventKind
from sync.core.words import N_
from sync.gripp.errors import GrippError
from sync.jobs.linking import know_links, link_error
from sync.jobs.refresh import refresh_gripp
from sync.jobs.services import Services
from sync.store import history
from sync.store import setup as setup_repo

MAX_IDENTITY_ID = 2**31 - 1  # Gripp's ids are 32-bit integers; anything longer is a typing slip
MAX_NAME = 200


def add_identity(services: Services, identity_id: int, name: str = "", *, actor: Actor | str) -> str:
    """Add an identity by its Gripp id, verified against Gripp first: one that has no invoice or company yet is
    refused with what to do, so a mistyped id never becomes a ghost identity."""
    from sync.gripp.filters import Filter

    actor = authorize(actor, "link")
    if isinstance(identity_id, bool) or not isinstance(identity_id, int) or not 0 < identity_id <= MAX_IDENTITY_ID:
        raise link_error(N_("link.error.identity_id_invalid"))
    if setup_repo.identity_known(services.store, identity_id):  # adding it again would only log a second "added"
        raise link_error(N_("link.error.identity_exists"), code="exists", identity=str(identity_id),
                         name=setup_repo.identity_name(services.store, identity_id))
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise link_error(N_("link.error.name_too_long"), most=MAX_NAME)
    try:
        client = services.gripp()
        answers = client.batch([
            client.get_call(entity, [Filter(f"{entity}.identity", "equals", identity_id)], first=0, max_results=1)
            for entity in ("invoice", "company")])
        rows = [row for answer in answers for row in ((answer.unwrap() or {}).get("rows") or [])]
    except Exception as exc:
        raise link_error(N_("link.error.gripp_unavailable_identity"), code="unavailable") from exc
    if not rows:
        raise link_error(N_("link.error.identity_not_in_gripp"), code="unknown_identity", identity=str(identity_id))
    found = (rows[0].get("identity") or {}).get("searchname") if isinstance(rows[0].get("identity"), dict) else None
    name = str(found or name or f"#{identity_id}")
    store = services.store
    with store.transaction():
        setup_repo.upsert_identity(store, identity_id, name, source=setup_repo.IdentitySource.MANUAL)
        history.log_event(store, EventKind.IDENTITY, identity_id=identity_id, actor=actor,
                          data={"identity": identity_id, "name": name})
    services.ran()  # the support overview counts the identities
    return name


def remove_identity(services: Services, identity_id: int, *, actor: Actor | str) -> bool:
    """Remove an identity that is not linked (unlink it first). Its history stays in the log."""
    actor = authorize(actor, "link")
    store = services.store
    if setup_repo.get_link(store, identity_id) is not None:
        raise link_error(N_("link.error.identity_linked"), code="linked")
    with store.transaction():
        name = setup_repo.identity_name(store, identity_id)
        removed = setup_repo.delete_identity(store, identity_id)
        if removed:
            history.log_event(store, EventKind.IDENTITY_REMOVED, identity_id=identity_id, actor=actor,
                              data={"identity": identity_id, "name": name})
    know_links(services)  # the catalog holds no link of an identity that is gone
    services.ran()  # the support overview counts the identities
    return removed


def discover_identities(services: Services, *, actor: Actor | str) -> list[setup_repo.IdentityRow]:
    """Refresh the Gripp cache (identities come from invoice and company rows) and list every identity."""
    actor = authorize(actor, "link")
    store = services.store
    known = {row["identity_id"] for row in setup_repo.identities(store)}
    try:
        refresh_gripp(store, services.gripp())
    except GrippError as exc:
        raise link_error(N_("link.error.gripp_unavailable"), code="unavailable") from exc
    found = setup_repo.identities(store)
    with store.transaction():
        for row in found:
            if row["identity_id"] not in known:
                history.log_event(store, EventKind.IDENTITY, identity_id=row["identity_id"], actor=actor,
                                  data={"identity": row["identity_id"], "name": row["name"]})
    services.ran()  # the support overview counts the identities
    return found
