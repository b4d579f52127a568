"""Errors of the place-recognition tools; each is one line naming the offending input."""

from __future__ import annotations

from snncontrol.errors import SnnControlError


class DatasetError(SnnControlError):
    """A dataset cannot be used: empty folder, unreadable image, missing bag topic, mismatched counts."""


class VprConfigError(SnnControlError, ValueError):
    """A place-recognition configuration value is out of range (names the field)."""
