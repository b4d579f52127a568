"""Resolve "package.module:function" references named in configs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from evolution.errors import ConfigError


def import_object(reference: str, field: str) -> Callable[..., Any]:
    """The callable `reference` names; a ConfigError naming `field` if it cannot be imported."""
    module_name, _, attr = reference.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{field}: cannot import {reference!r} ({exc})") from None
    if not callable(target):
        raise ConfigError(f"{field}: {reference!r} is not callable")
    return target
