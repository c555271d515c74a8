"""Typed errors raised by gluteutils.

Every error says what was wrong and what to fix. Data errors carry the file, the row and the
column so a clinic can find the problem in its own export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class GluteError(Exception):
    """Base class of every error gluteutils raises on purpose."""


@dataclass
class DataProblem:
    """One problem found in a data file.

    ``row`` is the 1-based data row (the header is row 0) or ``None`` when the problem is
    about the whole file or a whole column; ``column`` is the column name or ``None``.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    expected: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}"
        if self.value is not None:
            text += f" (found {_short(self.value)!r})"
        if self.expected is not None:
            text += f"; expected {_short(self.expected, 400)}"
        return text


#: Longest value echoed in a message (a 1 MB label is cut, with its length given).
MAX_SHOWN_CHARS: int = 80


def _short(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


class DataValidationError(GluteError, ValueError):
    """A data file does not match its schema.

    ``problems`` lists every problem found (the message shows the first few); ``file``,
    ``row`` and ``column`` repeat the first problem for convenience.
    """

    def __init__(self, problems: list[DataProblem], *, max_shown: int = 10) -> None:
        if not problems:
            raise ValueError("DataValidationError needs at least one problem")
        self.problems = problems
        first = problems[0]
        self.file: str = first.file
        self.row: int | None = first.row
        self.column: str | None = first.column
        shown = "\n  ".join(str(p) for p in problems[:max_shown])
        more = len(problems) - max_shown
        tail = f"\n  ... and {more} more problem(s)" if more > 0 else ""
        super().__init__(f"{len(problems)} problem(s) in {first.file}:\n  {shown}{tail}")


class AllRowsRejectedError(DataValidationError):
    """Every data row of a file was rejected: nothing is left to analyse. The first problem
    says so; the rest are the rows' own problems."""


class ContentError(GluteError, ValueError):
    """Shipped content (muscle cards, questionnaire, references) breaks its own schema."""

    def __init__(self, file: str | Path, message: str) -> None:
        self.file = str(file)
        super().__init__(f"{self.file}: {message}")


class InvalidAnswerError(GluteError, ValueError):
    """A questionnaire answer is not allowed for its question."""

    def __init__(self, question_id: str, value: object, expected: str) -> None:
        self.question_id = question_id
        self.value = value
        self.expected = expected
        super().__init__(
            f"question '{question_id}': answer {value!r} is not allowed; expected {expected}"
        )


class UnknownReferenceError(GluteError, KeyError):
    """A source key does not resolve in the reference list (data/references/*.yaml)."""


class PrivacyError(GluteError, ValueError):
    """Data would be released with identifiers or below the required k-anonymity."""


class DisclosureError(PrivacyError):
    """A table cannot be released under the disclosure policy (e.g. no suppression protects
    a small count), or a release failed its audit."""


class RequiredColumnError(PrivacyError):
    """k-anonymity would have to blank or remove a column the outcome schema requires (e.g.
    ``therapy``): declare fewer quasi-identifiers, allow generalisation, or lower ``k``."""


class ExplorerError(GluteError, ValueError):
    """A filter of the outcome explorer names a value the explorer does not know."""


class ModelError(GluteError, ValueError):
    """An analysis cannot be run on the data given (too few rows, a missing column, ...)."""


class NotFittedError(GluteError, RuntimeError):
    """``summary_`` was read before ``fit`` was called."""
