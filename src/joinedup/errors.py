"""One error type for everything joinedup refuses: :class:`JoinedupError`.

Every error a person can cause (a bad form, a request the rules refuse, something that does not
exist) derives from it and carries, as data rather than words:

* ``status``: the HTTP status that fits (a class default, or given where it is raised),
* ``message``: a sentence for people that names no personal data,
* ``field``: the input at fault, by the name the API model and the form share (or ``None``).

The web app renders every one of them in one handler (:mod:`joinedup.web.errors`): JSON
``{"detail": ...}`` under ``/api``, the error page (or the form again, its field highlighted)
elsewhere. The CLI prints ``str(exc)``. No code reads an error's text to decide anything.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import ClassVar


def sentence(text: str) -> str:
    """``"the agreement is already revoked"`` → ``"The agreement is already revoked"``."""
    return text[:1].upper() + text[1:]


class JoinedupError(Exception):
    """A refusal with a typed ``status``, a ``message`` for people and the ``field`` at fault.

    Subclasses set the default status; a raise site may give another (the same rule can be a
    bad request in one use and a conflict with the current state in another). Two class
    switches shape the text: ``names_field`` writes ``"field: message"`` (the established
    wording of the stages whose messages lead with the field), and ``capitalised`` writes the
    message to people as a sentence (the governance core words its errors in lower case for
    the CLI).
    """

    status: int = 422
    names_field: ClassVar[bool] = False
    capitalised: ClassVar[bool] = False

    def __init__(self, message: str, *, status: int | None = None, field: str | None = None):
        self.message = message
        self.field = field
        if status is not None:
            self.status = status
        super().__init__(f"{field}: {message}" if self.names_field and field else message)

    @property
    def status_code(self) -> int:
        """:attr:`status`, by the name HTTP exceptions give it."""
        return self.status

    @property
    def detail(self) -> str:
        """The whole answer for people: the API's ``detail`` and the error page's text."""
        text = str(self)
        return sentence(text) if self.capitalised else text

    @property
    def field_message(self) -> str:
        """The text a form shows beside :attr:`field`."""
        return sentence(self.message) if self.capitalised else self.message

    def field_errors(self, default: str, known: Collection[str] | None = None) -> dict[str, str]:
        """``{field: message}`` for a form: at :attr:`field`, or at ``default`` when the error
        names no field (or one the form does not have, when ``known`` lists the form's)."""
        name = self.field if self.field and (known is None or self.field in known) else default
        return {name: self.field_message}


class Refused(JoinedupError):
    """A request a use case refuses: ``Refused(status, message, field)``."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message, status=status, field=field)


class Missing(JoinedupError, LookupError):
    """No such thing: 404."""

    status = 404


class InvalidInput(JoinedupError, ValueError):
    """Input that breaks a rule: 422."""

    status = 422


class Conflict(JoinedupError):
    """The current state does not allow it: 409."""

    status = 409
