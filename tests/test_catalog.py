"""The one catalog: every key the code says is in both languages, translated, with the same values filled in; the
words are said through the one formatter; a missing key is never shown as a key."""

from __future__ import annotations

import gettext
import io
import string
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from sync.core import argparse_words, words
from sync.core.dates import AMSTERDAM
from sync.core.words import Msg, said, say

ROOT = Path(__file__).resolve().parents[1]


def extracted(tmp_path: Path) -> Catalog:
    """What `make catalog` extracts: Babel over the code, with the keywords and method in pyproject.toml."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-c", "from babel.messages.frontend import main; main()", "-q", "extract", "-F",
         "pyproject.toml", "--no-location", "--sort-output", "--omit-header", "-o", str(pot), "console", "sync"],
        cwd=ROOT, check=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    with pot.open("rb") as found:
        return read_po(found)


def catalog(lang: str) -> Catalog:
    with (words.LOCALE_DIR / lang / "LC_MESSAGES" / f"{words.DOMAIN}.po").open("rb") as po:
        return read_po(po, locale=lang)


def key_of(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Catalog:
    return extracted(tmp_path_factory.mktemp("catalog"))


@pytest.fixture(scope="module")
def catalogs() -> dict[str, Catalog]:
    return {lang: catalog(lang) for lang in words.LANGUAGES}


def test_every_key_in_code_is_in_each_catalog_translated_and_not_fuzzy(template, catalogs) -> None:
    for lang, found in catalogs.items():
        problems = []
        for wanted in template:
            if not wanted.id:
                continue
            have = found.get(wanted.id)
            if have is None:
                problems.append(f"missing: {key_of(wanted)}")
            elif have.pluralizable != wanted.pluralizable:
                problems.append(f"counted in code but not in the catalog (or the other way): {key_of(wanted)}")
            elif have.fuzzy:
                problems.append(f"fuzzy: {key_of(wanted)}")
            elif not all(have.string) if have.pluralizable else not have.string:
                problems.append(f"untranslated: {key_of(wanted)}")
        assert problems == [], f"{lang}: run `make catalog` and write the words: {problems}"


def test_no_catalog_holds_words_the_code_no_longer_says(template, catalogs) -> None:
    used = {key_of(m) for m in template if m.id}
    for lang, found in catalogs.items():
        assert sorted({key_of(m) for m in found if m.id} - used) == [], f"{lang}: `make catalog` drops them"


def placeholders(text: str) -> set[tuple[str, str]]:
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(text) if name is not None}


def test_both_languages_fill_in_the_same_values_with_known_specs(catalogs) -> None:
    nl, en = catalogs["nl"], catalogs["en"]
    for message in nl:
        if not message.id:
            continue
        forms_nl = message.string if message.pluralizable else (message.string,)
        other = en.get(message.id)
        assert other is not None, key_of(message)
        forms_en = other.string if other.pluralizable else (other.string,)
        wanted = placeholders(forms_nl[-1])
        for form in (*forms_nl, *forms_en):
            # A counted message's one-form may say "1" or "één" instead of {n}; everything else is the same.
            found = placeholders(form)
            assert found - {("n", "")} == wanted - {("n", "")}, (key_of(message), form)
        for _name, spec in wanted:
            assert spec in words.SPECS or spec == "", (key_of(message), spec)


def test_english_words_name_the_console_as_an_english_reader_sees_it(catalogs) -> None:
    # a trial read "at the bottom of Controles" and "Link again with ‘Maatwerk key ophalen’" on English pages
    def text(message) -> str:
        return " ".join(message.string) if isinstance(message.string, tuple) else message.string

    dutch = {text(catalogs["nl"][key]) for key in ("page_checks", "page_linking", "page_overview", "page_sync",
                                                    "page_open_items", "page_accounts", "fetch_key")}
    named = [(m.id, name) for m in catalogs["en"] if m.id for name in dutch if name in text(m)]
    assert named == []


def test_a_wait_of_one_second_is_said_in_the_singular(catalogs) -> None:
    # the sign-in's throttle once said "probeer het over 1 seconden opnieuw"
    assert say("signin_wait", "nl", n=1) == "Even wachten: probeer het over een seconde opnieuw."
    assert say("signin_wait", "en", n=3) == "Wait a moment: try again in 3 seconds."
    assert say("signin_locked", "nl", n=15) == "Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw."


def test_the_catalogs_compile_cleanly(catalogs) -> None:
    for lang, found in catalogs.items():
        assert list(found.check()) == [], lang


# ================================================================================================ argparse's words


def argparse_messages() -> set[str]:
    """Every message argparse can say in the Python that runs the link: what `make catalog` extracts from it."""
    import argparse

    from babel.messages.extract import extract_from_file

    found = extract_from_file("python", argparse.__file__, keywords={"_": None, "ngettext": (1, 2)})
    return {message if isinstance(message, str) else message[0] for _, message, _, _ in found}


def argparse_catalog() -> Catalog:
    with (words.LOCALE_DIR / "nl" / "LC_MESSAGES" / f"{argparse_words.DOMAIN}.po").open("rb") as po:
        return read_po(po, locale="nl", domain=argparse_words.DOMAIN)


def test_argparse_says_every_message_in_dutch_and_no_message_it_no_longer_has() -> None:
    """Usage, help and argument errors read as Dutch: each of argparse's messages has its Dutch words (English is
    argparse's own); a newer Python's new messages fail here until `make catalog` adds them and they are written."""
    wanted, found = argparse_messages(), argparse_catalog()
    assert "usage: " in wanted and "the following arguments are required: %s" in wanted  # the reader works
    have = {key_of(m): m for m in found if m.id}
    problems = [f"missing: {m!r}" for m in sorted(wanted - set(have))]
    problems += [f"untranslated or fuzzy: {key!r}" for key, m in sorted(have.items()) if m.fuzzy or not (
        all(m.string) if m.pluralizable else m.string)]
    problems += [f"argparse no longer says: {key!r}" for key in sorted(set(have) - wanted)]
    assert problems == [], "run `make catalog` and write the Dutch of argparse's messages"
    assert list(found.check()) == []  # the same %-placeholders, compatible


def test_argparse_speaks_the_readers_language_only_while_asked(capsys) -> None:
    import argparse

    def parse(lang: str, argv: list[str]) -> str:
        parser = argparse.ArgumentParser(prog="prog")
        parser.add_argument("--n", type=int, required=True)
        with argparse_words.speaking(lang), pytest.raises(SystemExit):
            parser.parse_args(argv)
        return capsys.readouterr().err

    dutch = parse("nl", [])
    assert dutch.startswith("gebruik: prog") and "prog: fout: dit ontbreekt nog: --n" in dutch
    assert "bij --n: 'x' is geen geldige waarde" in parse("nl", ["--n", "x"])
    english = parse("en", [])
    assert english.startswith("usage: prog") and "the following arguments are required: --n" in english
    assert vars(argparse)["_"]("usage: ") == "usage: "  # argparse's own words again, for everyone
    assert argparse_words.lang_of(["run", "--lang", "en"]) == "en" == argparse_words.lang_of(["--lang=en"])
    assert argparse_words.lang_of(["--lang", "xx"]) == "nl" == argparse_words.lang_of([])


# ================================================================================================ saying it

TEST_WORDS = {
    "tests.catalog.booked": ("Factuur geboekt: {amount:money} op {day:date}.",
                             "Invoice booked: {amount:money} on {day:date}."),
    "tests.catalog.invoices": (("{n} factuur", "{n} facturen"), ("{n} invoice", "{n} invoices")),
    "tests.catalog.because": ("Omdat: {reason} ({names:list})", "Because: {reason} ({names:list})"),
    "tests.catalog.linked": ("Gekoppeld: {name}.", "Linked: {name}."),
    "tests.catalog.at": ("Om {at:moment}", "At {at:moment}"),
}


@pytest.fixture(autouse=True)
def _test_words(request, monkeypatch) -> None:
    """The tests of saying run on a small catalog of their own (compiled in memory as the real one is)."""
    if "template" in request.fixturenames or "catalogs" in request.fixturenames:
        return
    compiled = {}
    for index, lang in enumerate(words.LANGUAGES):
        found = Catalog(locale=lang)
        for key, texts in TEST_WORDS.items():
            found.add((key, key) if isinstance(texts[index], tuple) else key, string=texts[index])
        buffer = io.BytesIO()
        write_mo(buffer, found)
        buffer.seek(0)
        compiled[lang] = gettext.GNUTranslations(buffer)
        compiled[lang].add_fallback(words._Absent())
    real = words.translations
    monkeypatch.setattr(words, "translations", lambda lang, domain=words.DOMAIN:
                        compiled[lang] if domain == words.DOMAIN else real(lang, domain))


def test_a_key_is_said_in_each_language_with_the_values_through_the_formatter() -> None:
    assert say("tests.catalog.booked", "nl", amount=Decimal("1234.5"), day=date(2026, 11, 28)) == \
        "Factuur geboekt: € 1.234,50 op 28-11-2026."
    assert say("tests.catalog.booked", "en", amount=Decimal("1234.5"), day=date(2026, 11, 28)) == \
        "Invoice booked: €1,234.50 on 28/11/2026."


def test_a_counted_key_takes_the_form_of_its_count() -> None:
    assert say("tests.catalog.invoices", "nl", n=1) == "1 factuur"
    assert say("tests.catalog.invoices", "nl", n=12345) == "12.345 facturen"
    assert say("tests.catalog.invoices", "en", n=2) == "2 invoices"


def test_a_message_nests_says_lists_and_survives_the_store() -> None:
    reason = Msg("tests.catalog.invoices", n=3)
    message = Msg("tests.catalog.because", reason=reason, names=["a", "b", "c"])
    assert say(message, "nl") == "Omdat: 3 facturen (a, b en c)"
    assert say(message, "en") == "Because: 3 invoices (a, b and c)"
    stored = message.to_json()
    assert Msg.from_json(stored) == message
    assert said(stored, "en") == "Because: 3 invoices (a, b and c)"


def test_words_recorded_before_codes_are_shown_in_the_readers_language_or_the_one_there_is() -> None:
    assert said({"nl": "oud", "en": "old"}, "en") == "old"
    assert said({"nl": "alleen Nederlands"}, "en") == "alleen Nederlands"
    assert said("plain", "nl") == "plain"


def test_a_name_that_ends_in_a_full_stop_gets_no_second_and_outside_text_is_escaped() -> None:
    assert say("tests.catalog.linked", "nl", name="Studio Noord B.V.") == "Gekoppeld: Studio Noord B.V."
    assert say("tests.catalog.linked", "en", name="*bold*", escape=lambda text: text.replace("*", r"\*")) == \
        r"Linked: \*bold\*."


def test_moments_are_shown_in_amsterdam_time() -> None:
    at = datetime(2026, 6, 1, 10, 0, tzinfo=AMSTERDAM)
    assert say("tests.catalog.at", "nl", at=at) == "Om 01-06-2026 10:00"


def test_a_missing_key_fails_in_strict_mode_and_is_never_shown_as_a_key_otherwise(monkeypatch) -> None:
    with pytest.raises(words.MissingWords):
        say("tests.catalog.no_such_key", "nl")
    monkeypatch.delenv(words.STRICT_ENV)
    assert say("tests.catalog.no_such_key", "nl") == "tests.catalog.no_such_key"  # in no catalog: logged as an error


def test_extraction_sees_keys_inside_f_strings_and_both_branches_of_a_choice() -> None:
    source = io.BytesIO(b'x = f"{t(\'inner.key\')}: {y}"\nt("a.key" if y else "b.key")\ntn("c.key", n=2)\n')
    found = [message for _, _, message, _ in words.extract_keys(source, {"t": None, "tn": (1, 1)}, [], {})]
    assert sorted(found) == [("a.key",), ("b.key",), ("c.key",), ("inner.key",)]


def test_the_languages_are_named_in_their_own_words() -> None:
    assert [words.language_name(lang) for lang in words.LANGUAGES] == ["Nederlands", "English"]
