"""Kostenplaatsen end to end: Gripp's on a line booked on the mapped SnelStart one, a project's made once (also when
the answer to its POST is lost), a grootboek that demands one blocking an invoice before anything is posted, the
suggestions, the per-identity source, and the mappings file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sync import cli
from sync.cli.common import EXIT_OK
from sync.core.words import said
from sync.jobs import kostenplaatsen, mappings_io
from sync.jobs.inputs import mapping_context
from sync.jobs.preview import preview_identity
from sync.jobs.runner import run_identity
from sync.jobs.suggestions import MappingError
from sync.mapping import map_invoice
from sync.mapping.types import (
    InvoiceIn,
    InvoiceLineIn,
    KostenplaatsMapping,
    KostenplaatsSource,
    LedgerMapping,
    MappingContext,
    SnelStartKostenplaatsInfo,
    SnelStartLedgerInfo,
    SnelStartVatRateInfo,
    VatMapping,
)
from sync.sandbox.seed import (
    ADMIN_STUDIO,
    GRIPP_PROJECTS,
    KOSTENPLAATS_LEDGER,
    KOSTENPLAATS_REQUIRED,
    guid,
    manifest,
)
from sync.store import history, outbox
from sync.store import kostenplaatsen as kp_repo
from sync.store import setup as setup_repo

STUDIO = 1


def kostenplaats_id(number: int) -> str:
    return guid(ADMIN_STUDIO, "kostenplaats", number)


# ================================================================================================== the mapping


def _ctx(**changes: object) -> MappingContext:
    ledger = SnelStartLedgerInfo("g8000", 8000, "Omzet hoog", True, "VerkopenOmzetHoog", ("Hoog",), False)
    base = MappingContext(
        vat={1: VatMapping(1, "21%", "Hoog", Decimal("21"))}, ledgers={8000: LedgerMapping(8000, "Omzet", "8000")},
        snelstart_ledgers={"8000": ledger},
        vat_rates=(SnelStartVatRateInfo("Hoog", Decimal("21"), date(1900, 1, 1), date(2400, 12, 31)),),
        kostenplaatsen={7: KostenplaatsMapping(7, "Drukwerk", "130")},
        snelstart_kostenplaatsen={"110": SnelStartKostenplaatsInfo("k110", 110, "Drukwerk", True),
                                  "130": SnelStartKostenplaatsInfo("k130", 130, "Print", True)},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _invoice(*lines: InvoiceLineIn) -> InvoiceIn:
    net = sum((line.unit_price for line in lines), Decimal(0))
    return InvoiceIn(1, "2026-1", date(2026, 3, 1), date(2026, 3, 31), "", "Jansen", net * Decimal("1.21"), net,
                     tuple(lines))


def _line(line_id: int, price: str, **changes: object) -> InvoiceLineIn:
    line = InvoiceLineIn(line_id, f"Regel {line_id}", Decimal(1), Decimal(price), Decimal(0), 1, "21%", 8000, "Omzet")
    return replace(line, **changes)  # type: ignore[arg-type]


def test_a_line_with_a_gripp_kostenplaats_is_booked_on_the_mapped_snelstart_kostenplaats() -> None:
    invoice = _invoice(_line(1, "100", costheading_id=7), _line(2, "50"))
    plan = map_invoice(invoice, _ctx(), relatie_id="r1").plan
    assert plan is not None
    # The mapping decides (Gripp's 7 → SnelStart 130), not Gripp's name or number: a line of its own, the line
    # without a kostenplaats apart.
    assert [(r.get("kostenplaats"), r["bedrag"]) for r in plan.body["boekingsregels"]] == [
        (None, Decimal("50.00")), ({"id": "k130"}, Decimal("100.00"))]
    assert map_invoice(invoice, _ctx(kostenplaats_source=KostenplaatsSource.NONE), relatie_id="r1").plan.body[
        "boekingsregels"] == [{"omschrijving": "Regel 1; Regel 2", "grootboek": {"id": "g8000"},
                               "bedrag": Decimal("150.00"), "btwSoort": "Hoog"}]


def test_the_sandbox_books_the_seeded_kostenplaatsen_on_the_mapped_ones(services, world) -> None:
    facts = manifest(world)  # before the run: after it, what it booked reads as booked before
    run_identity(services, STUDIO, trigger="cli")
    admin = world.snelstart.administrations[ADMIN_STUDIO]
    booked = {b.factuurnummer: b for b in admin.bookings.values()}
    carried = 0
    for invoice in world.gripp.invoices.values():
        number = str(invoice.number)
        if number not in facts.to_book_by_identity[STUDIO]:
            continue
        for gripp_line in invoice.money_lines:
            if gripp_line.costheading_id is None:
                continue
            mapped = next(m.snelstart for m in setup_mappings() if m.gripp_id == gripp_line.costheading_id)
            lines = [x for x in booked[number].boekingsregels if x.kostenplaats_id == kostenplaats_id(int(mapped))]
            assert lines, number
            carried += 1
    assert carried >= 1


def setup_mappings():  # the seeded kostenplaats rows of identity 1
    from sync.sandbox.seed import demo_setup

    return demo_setup().mappings_for(STUDIO, "kostenplaats")


# ================================================================================ a grootboek demands one


def test_a_grootboek_that_demands_a_kostenplaats_blocks_its_invoice_before_any_post(services, world, sandbox) -> None:
    number = next(n for n, why in manifest(world).blocked_expected.items() if why == KOSTENPLAATS_REQUIRED)
    posted = sandbox.faults.add("snelstart-api", "latency", method="POST", path_contains="verkoopboekingen",
                                body_contains=f'"{number}"', times=None)
    dry = preview_identity(services, STUDIO, actor="anna")
    [line] = [x for x in dry.invoices if x.number == number]
    assert line.decision == "blocked" and "8010" in said(line.reasons, "nl")
    run_identity(services, STUDIO, trigger="cli")
    assert posted.seen == 0  # never sent to SnelStart
    invoice = next(i for i in world.gripp.invoices.values() if str(i.number) == number)
    row = outbox.get(services.store, STUDIO, invoice.id)
    assert row["state"] == "blocked"
    [reason] = outbox.reasons(row)
    assert reason["code"] == KOSTENPLAATS_REQUIRED and reason["subject"] == f"ledger:{KOSTENPLAATS_LEDGER}/kostenplaats"
    assert not [b for b in world.snelstart.administrations[ADMIN_STUDIO].bookings.values()
                if b.factuurnummer == number]


def test_the_check_names_the_grootboek_on_the_command_line(cli_env, capsys) -> None:
    assert cli.main(["--account", "studio-noord", "--lang", "en", "check", "--identity", "1"]) == cli.EXIT_FAILED
    out = capsys.readouterr().out
    assert "Kostenplaatsen" in out and "SnelStart account 8010 ‘Omzet laag’" in out
    assert "requires a kostenplaats on every booking line" in out


# =========================================================================== a project's kostenplaats, once


def _project_lines(world) -> dict[int, set[str]]:
    """Project id → the numbers of the invoices to book whose lines name it."""
    to_book = manifest(world).to_book_by_identity[STUDIO]
    found: dict[int, set[str]] = {}
    for invoice in world.gripp.invoices.values():
        for line in invoice.money_lines:
            if line.project_id is not None and str(invoice.number) in to_book:
                found.setdefault(line.project_id, set()).add(str(invoice.number))
    return found


def test_project_as_kostenplaats_makes_one_per_project_once_even_when_the_answer_is_lost(services, world,
                                                                                         sandbox) -> None:
    projects = _project_lines(world)
    assert len(projects) == 2
    assert kostenplaatsen.set_source(services, STUDIO, "project", actor="anna") == KostenplaatsSource.PROJECT
    admin = world.snelstart.administrations[ADMIN_STUDIO]
    # The first kostenplaats is made, and its answer never arrives.
    lost = sandbox.faults.add("snelstart-api", "lose_response", method="POST", path_contains="kostenplaatsen")
    run_identity(services, STUDIO, trigger="cli")
    assert lost.fired == 1
    numbers = [k.nummer for k in admin.kostenplaatsen.values()]
    for project_id, (name, number, _) in GRIPP_PROJECTS.items():
        assert numbers.count(number) == 1, numbers  # no second one for the lost answer
        [made] = [k for k in admin.kostenplaatsen.values() if k.nummer == number]
        assert made.omschrijving == name
        for invoice_number in projects[project_id]:
            [booking] = [b for b in admin.bookings.values() if b.factuurnummer == invoice_number]
            assert made.id in {x.kostenplaats_id for x in booking.boekingsregels}
    rows = kp_repo.project_rows(services.store, ADMIN_STUDIO)
    assert {r["state"] for r in rows.values()} == {kp_repo.CREATED}
    assert len(history.events(services.store, kind="kostenplaats")) == 2
    before = len(admin.kostenplaatsen)
    services.gripp_freshness.forget()
    run_identity(services, STUDIO, trigger="cli")  # nothing new: nothing made
    assert len(admin.kostenplaatsen) == before


def test_a_run_that_stopped_after_posting_finds_the_projects_kostenplaats_by_number(services, world) -> None:
    kostenplaatsen.set_source(services, STUDIO, "project", actor="anna")
    admin = world.snelstart.administrations[ADMIN_STUDIO]
    name, number, _ = GRIPP_PROJECTS[1]
    from sync.sandbox.world import SnelStartKostenplaats

    # The POST went through, then the process died: only the intent is recorded, the kostenplaats is in SnelStart.
    admin.kostenplaatsen["5e0e0000-0000-4000-8000-000000001041"] = SnelStartKostenplaats(
        "5e0e0000-0000-4000-8000-000000001041", number, name)
    kp_repo.put_project(services.store, ADMIN_STUDIO, 1, number, kp_repo.CREATING)
    run_identity(services, STUDIO, trigger="cli")
    assert [k.nummer for k in admin.kostenplaatsen.values()].count(number) == 1
    assert kp_repo.project_rows(services.store, ADMIN_STUDIO)[1]["kostenplaats_id"] == \
        "5e0e0000-0000-4000-8000-000000001041"


# ======================================================================================= suggestions, source


def test_suggestions_take_the_same_number_then_the_same_name(services) -> None:
    ctx = _ctx(snelstart_kostenplaatsen={
        "110": SnelStartKostenplaatsInfo("k110", 110, "Drukwerk", True),
        "200": SnelStartKostenplaatsInfo("k200", 200, "Workshops", True),
        "300": SnelStartKostenplaatsInfo("k300", 300, "Oud", False)})
    assert kostenplaatsen.kostenplaats_suggestion(1, "Iets", "110", ctx).snelstart == "110"
    by_name = kostenplaatsen.kostenplaats_suggestion(2, " workshops ", "999", ctx)
    assert by_name.snelstart == "200" and "Same name" in said(by_name.reason, "en")
    assert kostenplaatsen.kostenplaats_suggestion(3, "Oud", "300", ctx).snelstart == ""  # inactive: never


def test_the_sandbox_suggests_and_saves_a_mapping_with_its_check(services) -> None:
    run_identity(services, STUDIO, trigger="cli")
    proposals = {s.gripp_id: s for s in kostenplaatsen.suggest(services, STUDIO)}
    assert proposals[1].snelstart == "110" and proposals[1].existing == "110" and not proposals[1].changes
    assert kostenplaatsen.kostenplaats_options(services, STUDIO)["130"] == "130 — Webdesign"
    [result] = kostenplaatsen.save_kostenplaats_mapping(services, STUDIO, 1, "Drukwerk", "130", actor="anna")
    assert result.status == "pass"
    assert kp_repo.mappings(services.store, STUDIO)[0]["snelstart_number"] == "130"
    with pytest.raises(MappingError):
        kostenplaatsen.save_kostenplaats_mapping(services, STUDIO, 1, "Drukwerk", "777", actor="anna")
    [event] = history.events(services.store, kind="mapping")[:1]
    assert "kostenplaats" in event["detail_json"]


def test_the_source_is_per_identity_audited_and_read_by_the_mapping(services) -> None:
    assert mapping_context(services.store, STUDIO, ADMIN_STUDIO, max_total=None).kostenplaats_source == "line"
    kostenplaatsen.set_source(services, STUDIO, "none", actor="anna")
    assert setup_repo.get_link(services.store, STUDIO).kostenplaats_source == "none"
    assert mapping_context(services.store, 2, "a0000002-0000-4000-8000-000000000002",
                           max_total=None).kostenplaats_source == "line"
    with pytest.raises(MappingError):
        kostenplaatsen.set_source(services, STUDIO, "anders", actor="anna")
    kostenplaatsen.set_source(services, STUDIO, None, actor="anna")
    assert setup_repo.get_link(services.store, STUDIO).kostenplaats_source is None


def test_the_source_on_the_command_line(cli_env, capsys) -> None:
    assert cli.main(["--lang", "en", "kostenplaatsen", "--identity", "1"]) == EXIT_OK
    assert "comes from the kostenplaats on the Gripp line (line)" in capsys.readouterr().out
    assert cli.main(["--lang", "en", "kostenplaatsen", "--identity", "1", "project"]) == EXIT_OK
    assert ("now comes from the line's project (project); it came from the kostenplaats on the Gripp line (line)"
            in capsys.readouterr().out)  # a change says what it was
    assert cli.main(["kostenplaatsen", "--identity", "1", "project"]) == EXIT_OK
    assert "kwam al van het project van de regel (project); er is niets veranderd" in capsys.readouterr().out
    assert cli.main(["kostenplaatsen", "--identity", "1", "--default"]) == EXIT_OK
    assert "komt nu van de kostenplaats op de Gripp-regel (line); dat was het project" in capsys.readouterr().out


def test_the_source_is_named_in_the_readers_words_in_usage_errors(cli_env, capsys) -> None:
    def fails(argv: list[str]) -> str:
        with pytest.raises(SystemExit) as ended:
            cli.main(argv)
        assert ended.value.code == 2
        return capsys.readouterr().err

    err = fails(["kostenplaatsen", "--identity", "1", "frobnicate"])
    assert "fout: bij BRON: ‘frobnicate’ is geen keuze; kies uit line, project, none" in err and "source" not in err
    err = fails(["kostenplaatsen", "--identity", "1", "line", "--default"])
    assert "bij --default: niet samen met BRON" in err and "source" not in err
    err = fails(["--lang", "en", "kostenplaatsen", "--identity", "1", "frob"])
    assert "error: argument SOURCE: ‘frob’ is not a choice; choose from line, project, none" in err


# ============================================================================================ the mappings file


def test_the_mappings_file_has_kostenplaats_rows_and_they_round_trip(cli_env, capsys) -> None:
    target = cli_env / "mappings.csv"
    assert cli.main(["--account", "studio-noord", "mappings", "export", str(target)]) == EXIT_OK
    first = target.read_bytes()
    text = first.decode("utf-8-sig")
    assert "1;kostenplaats;1;Drukwerk;110;\r\n" in text and "1;kostenplaats;2;Workshops;120;\r\n" in text
    changed = cli_env / "changed.csv"
    changed.write_text(text.replace("1;kostenplaats;2;Workshops;120;", "1;kostenplaats;2;Workshops;130;"),
                       encoding="utf-8-sig")
    assert cli.main(["mappings", "import", str(changed)]) == EXIT_OK
    again = cli_env / "again.csv"
    assert cli.main(["mappings", "export", str(again)]) == EXIT_OK
    assert "1;kostenplaats;2;Workshops;130;" in again.read_text(encoding="utf-8-sig")
    assert cli.main(["mappings", "import", str(target)]) == EXIT_OK  # the backup restores it exactly
    assert cli.main(["mappings", "export", str(again)]) == EXIT_OK
    assert again.read_bytes() == first
    bad = cli_env / "bad.csv"
    bad.write_text("identity,type,gripp_id,gripp_label,snelstart,percentage\n1,kostenplaats,1,x,abc,\n",
                   encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["--lang", "en", "mappings", "import", str(bad)]) == cli.EXIT_FAILED
    assert "kostenplaats number must be a number" in capsys.readouterr().err


def test_an_import_keeps_a_kostenplaats_snelstart_lacks_and_says_so(services) -> None:
    run_identity(services, STUDIO, trigger="cli")  # caches SnelStart's kostenplaatsen
    parsed, problems, warnings = mappings_io.validate_rows(services.store, [
        {"identity": "1", "type": "kostenplaats", "gripp_id": "1", "gripp_label": "", "snelstart": "0777",
         "percentage": ""}])
    assert not problems and parsed[0]["snelstart"] == "777" and parsed[0]["gripp_label"] == "Drukwerk"
    assert "kostenplaats 777 does not exist" in said(warnings[0].message, "en")


# ================================================================================================ Gripp's side


def test_gripps_kostenplaatsen_and_projects_are_read_once_in_one_post_and_not_again(services, sandbox) -> None:
    from sync.jobs.refresh import refresh_gripp

    calls = sandbox.gripp.stats["calls"]
    refresh_gripp(services.store, services.gripp())
    assert calls.get("costheading.get") == 1 and calls.get("project.get") == 1
    assert {i: (r["name"], r["number"]) for i, r in kp_repo.costheadings(services.store).items()} == {
        1: ("Drukwerk", "110"), 2: ("Workshops", "120"), 3: ("Webdesign", "130")}
    assert {i: (r["name"], r["number"]) for i, r in kp_repo.projects(services.store).items()} == {
        i: (name, number) for i, (name, number, _) in GRIPP_PROJECTS.items()}
    posts = sandbox.gripp.stats["posts"]
    services.gripp_freshness.forget()
    refresh_gripp(services.store, services.gripp())  # nothing new: no look-up, no extra POST
    assert calls.get("costheading.get") == 1 and calls.get("project.get") == 1
    assert sandbox.gripp.stats["posts"] - posts == 1


def test_a_grootboek_that_starts_demanding_one_mid_run_is_refused_then_blocked_with_the_reason(services, world,
                                                                                               sandbox) -> None:
    """The bookkeeper ticks 'Kostenplaats verplicht' on 8000 after the link read the grootboeken: SnelStart refuses
    (its code is a guess; the text names the kostenplaats), and the next run blocks the invoices before posting."""
    admin = world.snelstart.administrations[ADMIN_STUDIO]
    omzet_hoog = next(led for led in admin.ledgers.values() if led.nummer == 8000)

    def tick() -> None:
        omzet_hoog.kostenplaats_verplicht = True

    sandbox.faults.add("snelstart-api", "hook", method="POST", path_contains="verkoopboekingen", action=tick)
    run_identity(services, STUDIO, trigger="cli")
    refused = [r for r in outbox.all_for(services.store, STUDIO).values() if r["state"] == "failed"]
    assert refused and all("KOSTENPLAATS_REFUSED" in {c for reason in outbox.reasons(r)
                                                      for c in str(reason["code"]).split(",")} for r in refused)
    services.gripp_freshness.forget()
    run_identity(services, STUDIO, trigger="cli")
    for row in refused:
        again = outbox.get(services.store, STUDIO, row["invoice_id"])
        assert again["state"] == "blocked"
        assert {(r["code"], r["subject"]) for r in outbox.reasons(again)} >= {
            (KOSTENPLAATS_REQUIRED, "ledger:8000/kostenplaats")}
