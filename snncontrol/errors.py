"""User-facing errors: each carries one line that names what is wrong; the CLI prints it without a traceback."""

from __future__ import annotations

from collections.abc import Sequence


def first_line(exc: BaseException) -> str:
    """The first non-blank line of what `exc` says (its type's name where it says nothing): many libraries'
    messages go on over lines (MuJoCo's XML context, YAML's marks, rcl's carets)."""
    return next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)


def described(exc: BaseException, limit: int = 200) -> str:
    """`TypeName: first line` of `exc` (at most `limit` characters of it), or the type's name alone where it says
    nothing: a library's error that is not ours, in one line."""
    name = type(exc).__name__
    line = first_line(exc)[:limit]
    return name if line == name else f"{name}: {line}"


def listed(items: Sequence[object], limit: int = 8) -> str:
    """The first `limit` of `items` for a one-line message, comma-separated, with ' ...' where there are more."""
    return ", ".join(map(str, items[:limit])) + (" ..." if len(items) > limit else "")


class SnnControlError(Exception):
    """Base class of every error snncontrol reports to a user as a single line."""


class SpecError(SnnControlError, ValueError):
    """A network, encoder or decoder specification is invalid (names the offending field)."""


class ArtifactError(SnnControlError):
    """A controller artifact is missing, corrupt, truncated, hostile or of an unknown schema."""


class GenomeError(SnnControlError, ValueError):
    """A genome (flat parameter vector) does not fit the parameter spec it is used with."""
