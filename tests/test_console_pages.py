"""Every page renders on the seeded sandbox, says SANDBOX, and speaks Dutch until the reader picks English."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from console import i18n
from sync.wiring import Services
from tests import console_helpers as helpers


@pytest.mark.parametrize("name", list(helpers.PAGES))
def test_every_page_renders_without_an_exception_and_says_sandbox(console: Services, name: str) -> None:
    at = helpers.page(name)
    helpers.no_exception(at)
    assert any("SANDBOX" in str(m.value) for m in at.markdown)
    assert at.title[0].value


@pytest.mark.parametrize("name", list(helpers.PAGES))
def test_every_page_renders_in_english_too(console: Services, name: str) -> None:
    at = helpers.page(name, lang="en")
    helpers.no_exception(at)


def test_the_language_switch_changes_the_texts(console: Services) -> None:
    at = helpers.page("synchronisatie")
    assert at.title[0].value == "Synchronisatie"
    assert "Nu synchroniseren" in [b.label for b in at.button]
    assert at.selectbox(key="lang").value == "nl"

    at.selectbox(key="lang").set_value("en").run()
    helpers.no_exception(at)
    assert at.title[0].value == "Sync"
    assert "Sync now" in [b.label for b in at.button]
    assert "Nu synchroniseren" not in [b.label for b in at.button]


def test_the_app_opens_on_the_overview_in_dutch(console: Services) -> None:
    at = AppTest.from_file(helpers.APP, default_timeout=helpers.TIMEOUT).run()
    helpers.no_exception(at)
    assert at.title[0].value == "Overzicht"


def test_every_text_has_both_languages() -> None:
    assert i18n.t("page_open_items", "nl") == "Openstaande posten" and i18n.t("page_open_items", "en") == "Open items"
    for name in ("not_booked", "drift_deleted", "only_in_snelstart", "drift_changed", "amount_differs",
                 "payment_not_in_gripp", "paid_in_gripp_only", "due_date_differs", "in_sync"):
        assert i18n.class_label(name, "nl") != f"class_{name}"
    assert i18n.class_label("payment_not_in_gripp", "nl") == "Betaling nog niet in Gripp"
