"""The Gripp simulator behaves like the real API v3: envelope, errors, filters, rows, writes, limits, PDFs."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import httpx
import pytest
from pypdf import PdfReader

from sync.sandbox.gripp_sim import GrippSimulator
from sync.sandbox.pdf import latin1, render_invoice_pdf
from tests.gripp_fixtures import (
    API_URL,
    PDF_BASE,
    TOKEN,
    FakeClock,
    add_invoices,
    make_sim,
    make_world,
)

PAGING = {"paging": {"firstresult": 0, "maxresults": 250}}


def post(sim: GrippSimulator, calls: object, token: str | None = TOKEN, raw: bytes | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = raw if raw is not None else json.dumps(calls).encode()
    return sim.handle(httpx.Request("POST", API_URL, headers=headers, content=content), "public/api3.php")


def rpc(sim: GrippSimulator, *calls: tuple[str, list]) -> list[dict]:
    response = post(sim, [{"method": m, "params": p, "id": i + 1} for i, (m, p) in enumerate(calls)])
    assert response.status_code == 200
    return json.loads(response.content, parse_float=Decimal)


def ids(sim: GrippSimulator, entity: str, *filters: dict, options: dict | None = None) -> list[int]:
    [element] = rpc(sim, (f"{entity}.get", [list(filters), options or PAGING]))
    assert element["error"] is None, element
    return [row["id"] for row in element["result"]["rows"]]


def f(field: str, operator: str, value: object = "", value2: object = None) -> dict:
    out = {"field": field, "operator": operator, "value": value}
    if value2 is not None:
        out["value2"] = value2
    return out


# ------------------------------------------------------------------------------------------ envelope


def test_every_answer_element_has_id_thread_result_error_and_the_body_is_labelled_html():
    sim = make_sim()
    response = post(sim, [{"method": "ledger.get", "params": [[], PAGING], "id": 41},
                          {"method": "ledger.getone", "params": [[]], "id": 7}])
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    elements = response.json()
    assert [e["id"] for e in elements] == [41, 7]
    for element in elements:
        assert {"id", "thread", "result", "error"} <= set(element) and element["error"] is None
        assert isinstance(element["thread"], str) and element["thread"]


def test_a_bad_key_is_http_200_with_one_idless_1009_element():
    sim = make_sim()
    for token in ("wrong", None):
        response = post(sim, [{"method": "invoice.get", "params": [[], PAGING], "id": 1},
                              {"method": "company.get", "params": [[], PAGING], "id": 2}], token=token)
        assert response.status_code == 200
        [element] = response.json()
        assert element["id"] is None and element["result"] == {"success": False}
        assert element["error_code"] == 1009 and element["error"] == "Invalid or non-existing API-key (1)"


def test_get_without_paging_or_with_more_than_250_rows_is_error_1007():
    sim = make_sim()
    message = ('"Paging" option is required and "maxresults" must be set lower or equal to 250. '
               "See the API-documentation.")
    for options in ({}, {"paging": {"firstresult": 0, "maxresults": 251}}, {"orderings": []}):
        [element] = rpc(sim, ("invoice.get", [[], options]))
        assert element["error_code"] == 1007 and element["error"] == message
        assert element["result"] == {"success": False}
    [element] = rpc(sim, ("invoice.get", [[]]))
    assert element["error_code"] == 1007


def test_getone_needs_no_paging_and_returns_the_envelope_with_at_most_one_row():
    sim = make_sim()
    [element] = rpc(sim, ("invoice.getone", [[f("invoice.status", "equals", "SENT")]]))
    result = element["result"]
    assert len(result["rows"]) == 1 and result["count"] == 3
    [element] = rpc(sim, ("invoice.getone", [[f("invoice.id", "equals", 424242)]]))
    assert element["result"]["rows"] == [] and element["result"]["count"] == 0


def test_unknown_methods_and_entities_are_error_elements():
    sim = make_sim()
    for method in ("identity.get", "vat.get", "creditnote.get", "invoice.frobnicate", "nodot"):
        [element] = rpc(sim, (method, [[], PAGING]))
        assert element["error_code"] == 1001 and method in element["error"] and element["id"] == 1


def test_paging_counts_all_matches_and_next_start_is_start_plus_limit_even_on_the_last_page():
    world = make_world()
    add_invoices(world, 596)
    sim = make_sim(world)
    [element] = rpc(sim, ("invoice.get", [[], {"paging": {"firstresult": 500, "maxresults": 250}}]))
    result = element["result"]
    assert (result["count"], result["start"], result["limit"], result["next_start"]) == (600, 500, 250, 750)
    assert len(result["rows"]) == 100 and result["more_items_in_collection"] is False
    [element] = rpc(sim, ("invoice.get", [[], {"paging": {"firstresult": 0, "maxresults": 250}}]))
    assert element["result"]["more_items_in_collection"] is True and element["result"]["next_start"] == 250


# ------------------------------------------------------------------------------------------ row shapes


def test_invoice_rows_have_the_real_shapes():
    sim = make_sim()
    [element] = rpc(sim, ("invoice.get", [[f("invoice.id", "equals", 1002)], PAGING]))
    row = element["result"]["rows"][0]
    assert row["date"] == {"date": "2025-07-10 00:00:00.000000", "timezone_type": 3, "timezone": "Europe/Amsterdam"}
    assert row["updatedon"]["date"] == "2025-07-15 14:05:09.000000"
    assert row["status"] == {"id": 2, "searchname": "Verzonden"}  # the Dutch label, never the constant
    assert row["company"] == {"id": 102, "searchname": "Café De Hoek", "discr": "bedrijf"}
    assert row["identity"] == {"id": 1, "searchname": "Studio Noord B.V."}
    assert row["totalincldiscountexclvat"] == "36.30" and row["totalinclvat"] == "39.57"
    assert row["totalpayed"] == "10.00" and row["totalopeninclvat"] == "29.57"
    assert "totalexclvat" not in row  # Gripp has no plain totalexclvat on invoices
    assert row["directpdfurl"] == f"{PDF_BASE}/1002" and row["viewonlineurl"].startswith(PDF_BASE)
    [line] = row["invoicelines"]
    assert line["vat"] == {"id": 28, "searchname": "9%"}
    assert line["ledger"] == {"id": 502, "searchname": "8010 Omzet laag"}
    assert line["amount"] == 3 and line["sellingprice"] == "12.10" and line["discount"] == 0  # as a live account
    assert line["rowtype"] == {"id": 1, "searchname": "NORMAAL"}
    [payment] = row["payments"]
    assert payment["amount"] == "10.00" and payment["invoice"]["id"] == 1002
    [element] = rpc(sim, ("invoice.get", [[f("invoice.id", "equals", 1001)], PAGING]))
    assert element["result"]["rows"][0]["updatedon"] is None  # never edited


def test_company_and_ledger_rows_use_gripp_field_names():
    sim = make_sim()
    [companies, ledgers] = rpc(sim, ("company.get", [[], PAGING]), ("ledger.get", [[], PAGING]))
    row = companies["result"]["rows"][0]
    assert row["customernumber"] == 10001 and row["relationtype"] == {"id": 1, "searchname": "Bedrijf"}
    assert row["invoicesendto"]["id"] == 1 and row["postaddress"]["id"] == 1
    assert row["visitingaddress_city"] == "Zwolle" and row["vatnumber"] == "NL001234567B01"
    assert ledgers["result"]["rows"][0]["number"] == "8000"  # ledger numbers are strings


# ------------------------------------------------------------------------------------------ filters


def test_equality_and_comparison_operators():
    sim = make_sim()
    assert ids(sim, "invoice", f("invoice.status", "equals", "SENT")) == [1001, 1002, 1004]
    assert ids(sim, "invoice", f("invoice.status", "equals", 1)) == [1003]  # enums by their integer too
    assert ids(sim, "invoice", f("invoice.status", "in", [2])) == [1001, 1002, 1004]
    assert ids(sim, "invoice", f("invoice.status", "equals", "Verzonden")) == []  # a label is not an enum value
    assert ids(sim, "invoice", f("invoice.status", "notequals", "SENT")) == [1003]
    assert ids(sim, "invoice", f("invoice.id", "greater", 1002)) == [1003, 1004]
    assert ids(sim, "invoice", f("invoice.id", "greaterequals", 1002)) == [1002, 1003, 1004]
    assert ids(sim, "invoice", f("invoice.id", "less", 1002)) == [1001]
    assert ids(sim, "invoice", f("invoice.id", "lessequals", 1002)) == [1001, 1002]
    assert ids(sim, "company", f("company.customernumber", "equals", 10002)) == [102]
    assert ids(sim, "invoice", f("invoice.totalopeninclvat", "notequals", "0")) == [1001, 1002, 1003, 1004]


def test_in_notin_between_like_operators():
    sim = make_sim()
    assert ids(sim, "invoice", f("invoice.id", "in", [1001, 1004, 9])) == [1001, 1004]
    assert ids(sim, "invoice", f("invoice.id", "notin", [1001, 1004])) == [1002, 1003]
    assert ids(sim, "invoice", f("invoice.date", "between", "2025-07-01", "2025-12-01")) == [1002, 1003]
    assert ids(sim, "invoice", f("invoice.createdon", "between", "2025-12-20 16:56:26", "2025-12-31 00:00:00")) == [
        1004]
    assert ids(sim, "company", f("company.companyname", "like", "% B.V.")) == [101, 103]
    assert ids(sim, "company", f("company.companyname", "like", "café%")) == [102]
    assert ids(sim, "company", f("company.companyname", "like", "Caf_ De Hoek")) == [102]


def test_isnull_and_isnotnull_on_updatedon_and_null_never_matches_a_comparison():
    sim = make_sim()
    assert ids(sim, "invoice", f("invoice.updatedon", "isnull")) == [1001, 1003]
    assert ids(sim, "invoice", f("invoice.updatedon", "isnotnull")) == [1002, 1004]
    assert ids(sim, "invoice", f("invoice.updatedon", "notequals", "2025-07-15 14:05:09")) == [1004]
    assert ids(sim, "invoice", f("invoice.updatedon", "greaterequals", "2025-07-15 14:05:10")) == [1004]
    # Empty strings are not NULL.
    assert ids(sim, "company", f("company.email", "isnull")) == []


def test_filters_are_anded_and_follow_references():
    sim = make_sim()
    assert ids(sim, "invoice", f("invoice.status", "equals", "SENT"), f("invoice.identity", "equals", 1)) == [
        1001, 1002]
    assert ids(sim, "invoice", f("company.id", "equals", 101)) == [1001, 1003]
    assert ids(sim, "invoice", f("invoice.company", "equals", 101), f("invoice.date", "less", "2025-06-01")) == [1001]
    assert ids(sim, "payment", f("payment.invoice", "equals", 1002)) == [7001]
    assert ids(sim, "invoiceline", f("invoiceline.invoice", "in", [1001])) == [5001, 5002]


def test_orderings_sort_on_several_levels():
    sim = make_sim()
    options = {**PAGING, "orderings": [{"field": "invoice.company", "direction": "desc"},
                                       {"field": "invoice.id", "direction": "desc"}]}
    assert ids(sim, "invoice", options=options) == [1004, 1002, 1003, 1001]


def test_bad_filters_are_error_elements():
    sim = make_sim()
    for bad in (f("invoice.id", "contains", 1), f("invoice.nosuchfield", "equals", 1), f("id", "equals", 1),
                f("invoice.customfield_x", "equals", 1), f("invoice.id", "in", 5),
                f("invoice.date", "between", "2025-01-01"), f("invoice.updatedon", "greater", "yesterday")):
        [element] = rpc(sim, ("invoice.get", [[bad], PAGING]))
        assert element["error"] and element["error_code"] not in (None, 1007, 1009), bad


# ------------------------------------------------------------------------------------------ writes


def test_payment_create_changes_the_invoice_totals_and_updatedon():
    clock = FakeClock()
    sim = make_sim(clock=clock)
    [created] = rpc(sim, ("payment.create", [{"invoice": 1001, "date": "2025-04-02", "amount": 264.50,
                                              "notes": "SnelStart", "extendedproperties": '{"ext":"SS-1"}'}]))
    assert created["error"] is None and created["result"]["success"] is True
    payment_id = created["result"]["recordid"]
    assert sim.world.gripp.payments[payment_id].amount == Decimal("264.50")
    [element] = rpc(sim, ("invoice.getone", [[f("invoice.id", "equals", 1001)]]))
    row = element["result"]["rows"][0]
    assert row["totalpayed"] == "264.50" and row["totalopeninclvat"] == "1000.00"
    assert row["updatedon"]["date"] == "2025-06-01 14:00:00.000000"  # the injected clock, Amsterdam summer time
    assert [p["id"] for p in row["payments"]] == [payment_id]


def test_input_types_are_strict():
    sim = make_sim()
    bad_payments = (
        {"invoice": 1001, "date": "2025-04-02", "amount": "10.00"},  # amount as a string
        {"invoice": "1001", "date": "2025-04-02", "amount": 10},  # id as a string
        {"invoice": 1001, "date": "02-04-2025", "amount": 10},
        {"invoice": 1001, "amount": 10},  # date missing
        {"invoice": 999, "date": "2025-04-02", "amount": 10},  # no such invoice
        {"invoice": 1001, "date": "2025-04-02", "amount": 10, "totalpayed": 5},  # unknown field
    )
    for fields in bad_payments:
        [element] = rpc(sim, ("payment.create", [fields]))
        assert element["error"] and element["result"] == {"success": False}, fields
    assert list(sim.world.gripp.payments) == [7001]
    [element] = rpc(sim, ("invoice.update", [1001, {"totalpayed": 5}]))
    assert "read-only" in element["error"]


def test_a_failing_call_rolls_back_the_batchs_earlier_writes():
    sim = make_sim()
    before = sim.world.gripp.next_id
    elements = rpc(sim,
                   ("payment.create", [{"invoice": 1001, "date": "2025-04-02", "amount": 10}]),
                   ("invoice.update", [1001, {"extendedproperties": "linked"}]),
                   ("payment.create", [{"invoice": 1001, "date": "2025-04-02", "amount": "oops"}]),
                   ("ledger.getone", [[]]))
    assert all(e["error"] for e in elements)
    assert list(sim.world.gripp.payments) == [7001]
    assert sim.world.gripp.invoices[1001].extendedproperties is None
    assert sim.world.gripp.invoices[1001].updatedon is None
    assert sim.world.gripp.next_id == before


def test_update_and_delete_set_updatedon_and_remove_records():
    clock = FakeClock()
    sim = make_sim(clock=clock)
    [element] = rpc(sim, ("invoice.update", [1001, {"extendedproperties": '{"ext":"SS-9"}', "subject": "Nieuw"}]))
    assert element["result"] == {"success": True}
    invoice = sim.world.gripp.invoices[1001]
    assert invoice.subject == "Nieuw" and invoice.updatedon is not None
    [element] = rpc(sim, ("payment.delete", [7001]))
    assert element["error"] is None and 7001 not in sim.world.gripp.payments
    [element] = rpc(sim, ("payment.delete", [7001]))
    assert element["error"]


def test_invoice_create_with_nested_lines_and_company_create():
    sim = make_sim()
    [company, invoice] = rpc(
        sim,
        ("company.create", [{"relationtype": "COMPANY", "companyname": "Nieuw B.V.", "identity": 1}]),
        ("invoice.create", [{"company": 101, "status": "CONCEPT", "date": "2025-05-01", "templateset": 2,
                             "invoicelines": [{"amount": 2, "sellingprice": 50, "vat": 27, "ledger": 501,
                                               "description": "Uren"}]}]))
    assert company["error"] is None and invoice["error"] is None
    created = sim.world.gripp.invoices[invoice["result"]["recordid"]]
    assert created.updatedon is None and len(created.lines) == 1
    assert sim.world.gripp.invoice_totals(created)["totalinclvat"] == Decimal("121.00")
    [dup] = rpc(sim, ("company.create", [{"relationtype": "COMPANY", "customernumber": 10001}]))
    assert "already in use" in dup["error"]


# ------------------------------------------------------------------------------------------ limits


def test_burst_bucket_refuses_the_21st_quick_post_with_503_retry_after_and_1004():
    clock = FakeClock()
    sim = make_sim(clock=clock, rate_limits=True)
    for _ in range(20):
        assert post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}]).status_code == 200
    refused = post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}])
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    [element] = refused.json()
    assert element["id"] is None and element["error_code"] == 1004
    clock.now += 0.25  # refilled at 4 per second
    assert post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}]).status_code == 200
    assert post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}]).status_code == 503


def test_hourly_quota_counts_posts_not_calls_and_resets_on_the_next_hour():
    clock = FakeClock(now=3600.0 * 500_000 + 10)
    sim = make_sim(clock=clock, rate_limits=True, hourly_quota=3, burst_capacity=100)
    batch = [{"method": "ledger.getone", "params": [[]], "id": i} for i in range(1, 6)]
    remaining = [post(sim, batch).headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = post(sim, batch)
    [element] = refused.json()
    assert refused.status_code == 429 and element["id"] is None and "hour" in element["error"]
    assert refused.headers["X-RateLimit-Limit"] == "3"
    sim.quota_answer = "jsonrpc"  # Gripp's docs: "you will receive a JSON-RPC error message"
    refused = post(sim, batch)
    assert refused.status_code == 200 and refused.json()[0]["id"] is None and "hour" in refused.json()[0]["error"]
    clock.now += 3600
    assert post(sim, batch).status_code == 200


def test_rate_limit_headers_are_sent_even_with_limits_off():
    sim = make_sim()
    first = post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}])
    second = post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}])
    assert first.headers["X-RateLimit-Limit"] == "1000"
    assert (first.headers["X-RateLimit-Remaining"], second.headers["X-RateLimit-Remaining"]) == ("999", "998")
    assert all(post(sim, [{"method": "ledger.getone", "params": [[]], "id": 1}]).status_code == 200
               for _ in range(30))


def test_only_post_with_a_json_array_is_accepted():
    sim = make_sim()
    get = sim.handle(httpx.Request("GET", API_URL), "public/api3.php")
    assert get.status_code == 405
    [element] = post(sim, None, raw=b"{not json").json()
    assert element["id"] is None and element["error"]
    assert sim.handle(httpx.Request("POST", API_URL), "public/api2.php").status_code == 404


def test_stats_count_posts_and_calls_by_method():
    sim = make_sim()
    rpc(sim, ("ledger.getone", [[]]), ("ledger.getone", [[]]), ("invoice.get", [[], PAGING]))
    assert sim.stats["posts"] == 1
    assert sim.stats["calls"] == {"ledger.getone": 2, "invoice.get": 1}


# ------------------------------------------------------------------------------------------ PDFs


def pdf_request(path: str, token: str | None = TOKEN, query: str = "") -> httpx.Request:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Request("GET", f"{PDF_BASE}/{path}{query}", headers=headers)


def test_pdf_link_serves_a_real_pdf_to_a_valid_token_only():
    sim = make_sim()
    response = sim.handle_pdf(pdf_request("1001"), "1001")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in ("20250001", "Studio Noord B.V.", "Bakkerij Jansen B.V.", "02-03-2025", "01-04-2025",
                     "EUR 1.264,50", "Ontwerp EUR"):
        assert expected in text, expected
    assert sim.handle_pdf(pdf_request("1001", token=None), "1001").status_code == 401
    assert sim.handle_pdf(pdf_request("1001", token="nope"), "1001").status_code == 401
    assert sim.handle_pdf(pdf_request("1001", token=None, query=f"?token={TOKEN}"), "1001").status_code == 200
    assert sim.handle_pdf(pdf_request("999"), "999").status_code == 404
    assert sim.handle_pdf(pdf_request("abc"), "abc").status_code == 404


def test_pdfs_are_cached_until_the_invoice_changes():
    sim = make_sim()
    first = sim.handle_pdf(pdf_request("1001"), "1001").content
    assert sim.handle_pdf(pdf_request("1001"), "1001").content is first
    rpc(sim, ("invoiceline.update", [5001, {"description": "Herzien ontwerp"}]))
    changed = sim.handle_pdf(pdf_request("1001"), "1001").content
    assert changed is not first and "Herzien ontwerp" in PdfReader(io.BytesIO(changed)).pages[0].extract_text()


def test_the_pdf_renderer_never_crashes_on_characters_helvetica_cannot_draw():
    world = make_world()
    invoice = world.gripp.invoices[1004]
    invoice.lines[0].description = "Crédit – 50 € “korting” ✓ 日本"
    world.gripp.companies[103].companyname = "Łódź Bouw Sp. z o.o."
    content = render_invoice_pdf(world.gripp, invoice)
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Lódz Bouw" in text and "CREDITFACTUUR" in text and "Btw verlegd" in text
    assert latin1("50 € – ok") == "50 EUR - ok"


@pytest.mark.parametrize("entity", ["invoice", "invoiceline", "company", "payment", "ledger"])
def test_every_entity_supports_get_and_getone(entity):
    sim = make_sim()
    [many, one] = rpc(sim, (f"{entity}.get", [[], PAGING]), (f"{entity}.getone", [[]]))
    assert many["error"] is None and many["result"]["count"] >= 1
    assert one["result"]["rows"][0]["id"] == many["result"]["rows"][0]["id"]


# ------------------------------------------------------------------------------------------ kostenplaatsen


def test_lines_name_their_kostenplaats_and_project_and_costheading_get_gives_name_and_number():
    from sync.sandbox.world import GrippCostheading, GrippProject

    world = make_world()
    world.gripp.costheadings = {7: GrippCostheading(7, "Drukwerk", "110")}
    world.gripp.projects = {3: GrippProject(3, "Website vernieuwing", 1041)}
    first = world.gripp.invoices[1001].lines[0]
    first.costheading_id, first.project_id = 7, 3
    sim = make_sim(world)
    [lines, costheadings, projects, write] = rpc(
        sim, ("invoiceline.get", [[f("invoiceline.costheading", "equals", 7)], PAGING]),
        ("costheading.get", [[], PAGING]), ("project.get", [[f("project.id", "in", [3])], PAGING]),
        ("costheading.create", [{"name": "Nieuw", "number": "999"}]))
    [row] = lines["result"]["rows"]
    assert row["costheading"] == {"id": 7, "searchname": "Drukwerk"}
    assert row["project"] == {"id": 3, "searchname": "Website vernieuwing"}
    assert [(r["id"], r["name"], r["number"]) for r in costheadings["result"]["rows"]] == [(7, "Drukwerk", "110")]
    assert [(r["id"], r["name"], r["number"]) for r in projects["result"]["rows"]] == [(3, "Website vernieuwing",
                                                                                         1041)]
    assert write["error"] is not None  # read only in the sandbox
