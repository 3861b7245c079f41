"""Domain errors, raised deep in the services and mapped to HTTP once, in the web layer.

Messages are what a resident or moderator reads: plain Dutch (B1), marked for translation. They are
kept as the untranslated msgid; the web layer translates them in the visitor's language.
"""

from __future__ import annotations

from typing import Self


def _(message: str) -> str:
    """Mark a message for extraction (babel); translation happens when it is rendered."""
    return message


class DomainError(Exception):
    status_code = 400
    # When True, the transaction commits before the error is raised: a refusal that must still
    # leave a trace, such as a counted failed sign-in (see db.transact).
    keep_changes = False

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params) if params else message)
        self.message = message  # the msgid, translated by the web layer before formatting
        self.params = params

    def keeping_changes(self) -> Self:
        self.keep_changes = True
        return self


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = _("Deze pagina bestaat niet."), **params: object) -> None:
        super().__init__(message, **params)


class NotAllowed(DomainError):
    status_code = 403

    def __init__(
        self, message: str = _("U heeft geen toegang tot deze pagina."), **params: object
    ) -> None:
        super().__init__(message, **params)


class PhaseClosed(DomainError):
    status_code = 409


class Invalid(DomainError):
    """Bad input for one field (or the whole form when ``field`` is empty); nothing was changed."""

    status_code = 422

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class InvalidForm(DomainError):
    """Several fields wrong at once, so a form can show every message in one go."""

    status_code = 422

    def __init__(self, errors: list[Invalid]) -> None:
        super().__init__(_("Niet alles is goed ingevuld."))
        self.errors = {error.field: error for error in errors}

    def __str__(self) -> str:
        return "; ".join(f"{field}: {error}" for field, error in self.errors.items())


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            _("Te veel pogingen. Probeer het over {minutes} minuten opnieuw."),
            minutes=max(1, (retry_after + 59) // 60),
        )
        self.retry_after = retry_after
