"""The API token form validates through the service's model (``TokenIn``): its limits, worded
for the form, one problem at a time in the form's order."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from joinedup.config import Settings
from joinedup.governance.service.accounts import TokenIn
from tests.web.conftest import SignedInFor, add_accounts
from tests.web.test_governance_agreements import error_summary, post_form


def test_the_model_states_the_limits() -> None:
    body = TokenIn.model_validate({"name": "  nightly  ", "scopes": ["read"], "days": "30"})
    assert (body.name, body.days) == ("nightly", 30)
    for bad in (
        {"name": " ", "scopes": ["read"], "days": 30},
        {"name": "x" * 121, "scopes": ["read"], "days": 30},
        {"name": "x", "scopes": [], "days": 30},
        {"name": "x", "scopes": ["read"], "days": 7},
    ):
        with pytest.raises(ValidationError):
            TokenIn.model_validate(bad)


def test_the_form_words_the_models_errors(
    signed_in_for: SignedInFor, db_settings: Settings
) -> None:
    add_accounts(db_settings)
    owner = signed_in_for(db_settings, "lam-owner", token=False)

    def problems(form: dict[str, object]) -> list[str]:
        answer = post_form(owner, "/account/tokens/new", "/account/tokens/new", form)
        assert answer.status_code == 422
        return error_summary(answer.text)

    read = {"scopes": ["read"], "days": "90"}
    assert problems({**read, "name": "x" * 121}) == [
        "The name must be 120 characters or fewer #name"
    ]
    assert problems({**read, "name": "x", "days": "7"}) == ["Select when the token expires #days"]
    assert problems({**read, "name": "x", "days": "soon"}) == [
        "Select when the token expires #days"
    ]
    # Several problems: the first on the form (name, then scopes, then days).
    assert problems({"name": "", "days": ""}) == ["Enter a name for the token #name"]
    assert problems({"name": "x", "days": ""}) == ["Select what the token may do #scopes"]
