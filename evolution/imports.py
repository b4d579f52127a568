"""Resolve the "package.module:function" references that experiment configs name, without running a config's code.

A config is data: it may name only a builder it is allowed to, never an arbitrary callable (`os:system`).
Allowed are the references of a registry of the project's own callables (or their short names), those that
installed packages declare as entry points of a group (e.g. `snncontrol.builders` in a package's
pyproject.toml: `[project.entry-points."snncontrol.builders"] mine = "mypkg.nets:build"`), and any callable in a
module the user names on the command line (`snncontrol evolve --allow-import mypkg` allows `mypkg` and
`mypkg.*`). `allowed_reference` decides before anything is imported; `import_object` imports what it returns.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from importlib.metadata import entry_points
from typing import Any

from evolution.errors import ConfigError
from snncontrol.errors import SnnControlError, first_line

MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def check_module_names(names: Sequence[str]) -> tuple[str, ...]:
    """`names` (module names a user allows imports from), each checked to be a dotted Python name."""
    for name in names:
        if not MODULE_NAME.match(name):
            raise ConfigError(f"--allow-import: {name!r} is not a module name (e.g. mypkg or mypkg.builders)")
    return tuple(names)


def allowed_reference(
    reference: str, registered: Mapping[str, str], group: str, allow_import: Sequence[str] = (), what: str = "builder"
) -> str:
    """The "module:function" reference a config's `reference` stands for: a registered name or reference
    (`registered`: short name -> reference), an entry point of `group` (its name or value), or a reference into
    a module of `allow_import` (or a submodule). Anything else is a ValueError naming what is allowed; nothing
    is imported here."""
    found = _lookup(reference, registered)
    if found is None:  # installed packages' metadata is read only when the registry does not hold it
        found = _lookup(reference, {ep.name: ep.value for ep in entry_points(group=group)})
    if found is not None:
        return found
    module = reference.partition(":")[0]
    if ":" in reference and any(module == name or module.startswith(f"{name}.") for name in allow_import):
        return reference
    known = ", ".join(sorted(registered))
    raise ValueError(
        f"{reference!r} is not a registered {what} ({known or 'none'}, or an entry point of group {group!r}); "
        f"to run code from your own module, name it on the command line: --allow-import MODULE"
    )


def _lookup(reference: str, names: Mapping[str, str]) -> str | None:
    """The reference of the name `reference` in `names` (name -> reference), itself if it is one, else None."""
    return names.get(reference, reference if reference in names.values() else None)


def import_object(reference: str, field: str) -> Callable[..., Any]:
    """The callable `reference` names; a ConfigError naming `field` if it cannot be imported. Arguments it does not
    take (checked against its signature before the call), and a ValueError, OverflowError or MemoryError it raises
    on its keywords (a negative or absurd size), are a ConfigError line too."""
    module_name, _, attr = reference.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{field}: cannot import {reference!r} ({exc})") from None
    if not callable(target):
        raise ConfigError(f"{field}: {reference!r} is not callable")

    def refused(exc: BaseException) -> ConfigError:
        return ConfigError(f"{field} {reference!r}: refused its kwargs ({first_line(exc)})")

    try:
        signature: inspect.Signature | None = inspect.signature(target)
    except (TypeError, ValueError):  # (some builtins have none: the call itself checks)
        signature = None

    @functools.wraps(target)
    def call(*args: Any, **kwargs: Any) -> Any:
        if signature is not None:
            try:
                signature.bind(*args, **kwargs)  # (a TypeError from inside the call is a bug: not caught)
            except TypeError as exc:
                raise refused(exc) from None
        try:
            return target(*args, **kwargs)
        except SnnControlError:
            raise
        except (ValueError, OverflowError, MemoryError) as exc:
            raise refused(exc) from None

    return call
