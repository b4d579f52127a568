"""User-facing errors: each carries one line that names what is wrong; the CLI prints it without a traceback."""

from __future__ import annotations


class SnnControlError(Exception):
    """Base class of every error snncontrol reports to a user as a single line."""


class SpecError(SnnControlError, ValueError):
    """A network, encoder or decoder specification is invalid (names the offending field)."""


class ArtifactError(SnnControlError):
    """A controller artifact is missing, corrupt, truncated, hostile or of an unknown schema."""


class GenomeError(SnnControlError, ValueError):
    """A genome (flat parameter vector) does not fit the parameter spec it is used with."""
