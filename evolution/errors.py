"""User-facing errors of the evolution engine; each is one line (the CLI prints it without a traceback)."""

from __future__ import annotations

from snncontrol.errors import SnnControlError


class ConfigError(SnnControlError, ValueError):
    """An experiment config (or a file it names) is invalid; the message names the field."""


class ResumeError(SnnControlError):
    """A run directory cannot be resumed (no checkpoint, or the config changed since it was written)."""


class WorkerError(SnnControlError):
    """Evaluation workers kept failing after every retry."""


class EvaluationError(SnnControlError):
    """Every evaluation of a run failed (NaN or infinite objective values): it has no champion."""
