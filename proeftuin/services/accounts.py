"""Staff accounts: creation and passwords (argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from proeftuin.errors import Invalid
from proeftuin.models import Role, StaffUser

MIN_PASSWORD_LENGTH = 12
NAME_LIMIT = 200  # StaffUser.name; PostgreSQL refuses a longer one
password_hasher = PasswordHasher()  # argon2id with the library's current defaults


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_email(email: str) -> str:
    email = normalise_email(email)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 320:
        raise Invalid("email", "Vul een geldig e-mailadres in, zoals naam@voorbeeld.nl.")
    return email


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            "password",
            "Kies een wachtwoord van minstens {length} tekens.",
            length=MIN_PASSWORD_LENGTH,
        )


def create_staff(
    session: Session, email: str, name: str, password: str, role: Role = Role.MODERATOR
) -> StaffUser:
    email = validate_email(email)
    validate_password(password)
    if not name.strip():
        raise Invalid("name", "Vul een naam in.")
    if len(name.strip()) > NAME_LIMIT:
        raise Invalid("name", "Gebruik hoogstens {limit} tekens.", limit=NAME_LIMIT)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise Invalid("email", "Er is al een account met dit e-mailadres.")
    user = StaffUser(
        email=email,
        name=name.strip(),
        password_hash=password_hasher.hash(password),
        role=role.value,
    )
    session.add(user)
    session.flush()
    return user
