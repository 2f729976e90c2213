"""The base of the errors a person can act on: both languages kept, English as the exception's text."""

import pytest

from sync.core.explained import Explained
from sync.jobs.accounts import AccountError
from sync.jobs.conflicts import ConflictError
from sync.jobs.linking import LinkError


def test_an_explained_error_says_why_in_the_readers_language() -> None:
    error = Explained("De sleutel is ingetrokken.", "The key was revoked.", code="rejected")
    assert (error.text(), error.text("nl"), error.text("en")) == (
        "De sleutel is ingetrokken.", "De sleutel is ingetrokken.", "The key was revoked.")
    assert str(error) == "The key was revoked." and error.code == "rejected"
    assert Explained("a", "b").code == "invalid"


def test_the_use_cases_errors_keep_the_kinds_callers_catch() -> None:
    with pytest.raises(ValueError):
        raise AccountError("nl", "en", code="duplicate")
    with pytest.raises(ValueError):
        raise ConflictError("nl", "en")
    assert not isinstance(LinkError("nl", "en"), ValueError)
    assert isinstance(LinkError("nl", "en", code="expired"), Explained)
