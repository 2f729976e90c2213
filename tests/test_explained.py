"""The base of the errors a person can act on: a message said in the reader's language, English as the exception's
text, and the kinds callers catch."""

import pytest

from sync.core.explained import Explained
from sync.core.words import Msg, say
from sync.jobs.accounts import AccountError
from sync.jobs.conflicts import ConflictError
from sync.jobs.linking import LinkError

KEY_REFUSED = Msg("link.error.key_refused")


def test_an_explained_error_says_why_in_the_readers_language() -> None:
    error = Explained(KEY_REFUSED, code="rejected")
    assert say(error.message, "nl").startswith("SnelStart kent deze koppelsleutel niet (meer)")
    assert say(error.message, "en").startswith("SnelStart does not know this koppelsleutel (any more)")
    assert str(error) == say(KEY_REFUSED, "en") and error.code == "rejected"
    assert Explained(KEY_REFUSED).code == "invalid"


def test_the_use_cases_errors_keep_the_kinds_callers_catch() -> None:
    with pytest.raises(ValueError):
        raise AccountError(KEY_REFUSED, code="duplicate")
    with pytest.raises(ValueError):
        raise ConflictError(KEY_REFUSED)
    assert not isinstance(LinkError(KEY_REFUSED), ValueError)
    assert isinstance(LinkError(KEY_REFUSED, code="expired"), Explained)
