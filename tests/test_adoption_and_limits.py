"""A booking found by number is this invoice's only when amount, customer and date fit (`sync.mapping.adoption`);
SnelStart's text limits are counted in UTF-16 units by the link and the simulator alike (`sync.snelstart.limits`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sync.core.words import say
from sync.mapping.adoption import FoundBooking, booking_conflict
from sync.mapping.types import InvoiceIn
from sync.snelstart import limits
from sync.snelstart.errors import SnelStartBadRequest
from tests.records_world import tiny_world

D = Decimal
INVOICE = InvoiceIn(1, "2025-0042", date(2025, 3, 14), date(2025, 4, 13), "Advies", "Bakkerij Jansen B.V.",
                    D("121.00"), D("100.00"), ())
NAMES = {"r-1": "Bakkerij Jansen B.V.", "r-2": "Garage De Vries"}


def found(relatie: str | None = "r-1", amount: str | None = "121.00", on: date | None = date(2025, 3, 14)):
    return FoundBooking("b-1", "2025-0042", relatie, on, D(amount) if amount else None)


def conflict(booking: FoundBooking, relatie_id: str | None = "r-1"):
    return booking_conflict(INVOICE, booking, relatie_id, names=NAMES, customer_name="Bakkerij Jansen B.V.")


def test_a_booking_with_the_same_amount_customer_and_date_fits() -> None:
    assert conflict(found()) is None


@pytest.mark.parametrize("booking, relatie_id, says", [
    (found(relatie="r-2"), "r-1", "klant ‘Garage De Vries’ in plaats van ‘Bakkerij Jansen B.V.’"),
    (found(amount="500.00"), "r-1", "bedrag € 500,00 in plaats van € 121,00"),
    (found(on=date(2025, 2, 1)), "r-1", "datum 01-02-2025 in plaats van 14-03-2025"),
    (found(amount=None), "r-1", "bedrag onbekend in plaats van € 121,00"),
    (found(), None, "klant ‘Bakkerij Jansen B.V.’ in plaats van"),  # a relatie still to be created: not it
])
def test_any_difference_is_a_conflict_that_names_it(booking, relatie_id, says) -> None:
    problem = conflict(booking, relatie_id)
    assert problem is not None and problem.code == "BOOKING_CONFLICT"
    assert says in say(problem.message, "nl")
    assert "Toch overnemen" in say(problem.fix, "nl") and "ander factuurnummer" in say(problem.fix, "nl")


def test_every_difference_is_listed() -> None:
    problem = conflict(found(relatie="r-2", amount="500.00", on=date(2025, 2, 1)))
    assert say(problem.message, "en").count("instead of") == 3


def test_utf16_length_and_cut_keep_surrogate_pairs_whole() -> None:
    name = "A" * 49 + "\U0001F333"
    assert (len(name), limits.utf16_len(name)) == (50, 51)
    assert not limits.fits(name, limits.RELATIE_NAAM)
    cut = limits.cut(name, limits.RELATIE_NAAM)
    assert limits.utf16_len(cut) == 50 and cut == "A" * 49 + "…"
    emoji = "\U0001F333" * 30
    assert limits.utf16_len(limits.cut(emoji, 25)) <= 25 and limits.cut(emoji, 25).endswith("…")
    assert "\ud83c" not in limits.cut(emoji, 25)  # never half a character
    assert limits.cut("kort", 25) == "kort"


def test_the_simulator_counts_utf16_units_like_snelstart(tmp_path) -> None:
    tiny = tiny_world()
    copy = tiny.copy(tmp_path)
    try:
        client = copy.services.snelstart(1)
        with pytest.raises(SnelStartBadRequest) as refused:
            client.create_relatie({"relatiesoort": ["Klant"], "naam": "A" * 49 + "\U0001F333"})
        assert "naam" in str(refused.value.body).lower()
        assert client.create_relatie({"relatiesoort": ["Klant"], "naam": "A" * 48 + "\U0001F333"})["naam"]
        hoog = next(g.id for g in tiny.admin.ledgers.values() if g.nummer == 8000)
        klant = next(r.id for r in tiny.admin.relaties.values() if "Klant" in r.relatiesoort)
        body = {"factuurnummer": "X1", "factuurdatum": "2025-03-01T00:00:00", "klant": {"id": klant},
                "omschrijving": "\U0001F333" * 126, "factuurbedrag": "121.00",
                "boekingsregels": [{"grootboek": {"id": hoog}, "bedrag": "100.00", "btwSoort": "Hoog"}],
                "btw": [{"btwSoort": "VerkopenHoog", "btwBedrag": "21.00"}]}
        with pytest.raises(SnelStartBadRequest) as too_long:
            client.create_verkoopboeking(body)  # 126 code points, 252 UTF-16 units
        assert "BOE-0071" in too_long.value.codes
        body["omschrijving"] = "\U0001F333" * 125
        assert client.create_verkoopboeking(body)["factuurnummer"] == "X1"
    finally:
        tiny.close()
