"""Staff accounts: who can be created, and how the password is kept."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from proeftuin.db import Database, read, transact
from proeftuin.errors import Invalid
from proeftuin.models import Role, StaffUser
from proeftuin.services import accounts

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr(accounts, "password_hasher", cheap)


def _staff_count(session: Session) -> int:
    return int(session.scalar(select(func.count(StaffUser.id))))


def test_a_new_account_has_a_normalised_address_and_an_argon2_hash(db: Database) -> None:
    def create(session: Session) -> int:
        return accounts.create_staff(
            session, "  Mo@Gemeente.NL ", " Mo de Vries ", PASSWORD, Role.ADMIN
        ).id

    user_id = transact(db, create)
    user = read(db, lambda s: s.get_one(StaffUser, user_id))
    assert (user.email, user.name, user.role) == ("mo@gemeente.nl", "Mo de Vries", "admin")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert accounts.password_hasher.verify(user.password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("email", "name", "password", "field", "message"),
    [
        ("geen-adres", "Mo", PASSWORD, "email", "Vul een geldig e-mailadres in"),
        ("mo@gemeente", "Mo", PASSWORD, "email", "Vul een geldig e-mailadres in"),
        ("m o@gemeente.nl", "Mo", PASSWORD, "email", "Vul een geldig e-mailadres in"),
        ("mo@gemeente.nl", "Mo", "te kort", "password", "minstens 12 tekens"),
        ("mo@gemeente.nl", "   ", PASSWORD, "name", "Vul een naam in."),
        ("mo@gemeente.nl", "x" * 201, PASSWORD, "name", "hoogstens 200 tekens"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_creates_nothing(
    db: Database, email: str, name: str, password: str, field: str, message: str
) -> None:
    with pytest.raises(Invalid) as refused:
        transact(db, accounts.create_staff, email, name, password)
    assert refused.value.field == field
    assert message in str(refused.value)
    assert read(db, _staff_count) == 0


def test_an_address_can_have_one_account_only(db: Database) -> None:
    transact(db, accounts.create_staff, "mo@gemeente.nl", "Mo", PASSWORD)
    with pytest.raises(Invalid) as refused:
        transact(db, accounts.create_staff, "MO@gemeente.nl", "Mo twee", PASSWORD)
    assert (refused.value.field, str(refused.value)) == (
        "email",
        "Er is al een account met dit e-mailadres.",
    )
    assert read(db, _staff_count) == 1


def test_validate_email_returns_the_normalised_address() -> None:
    assert accounts.validate_email(" Anna@Example.NL") == "anna@example.nl"
    with pytest.raises(Invalid):
        accounts.validate_email("a" * 310 + "@example.nl")
