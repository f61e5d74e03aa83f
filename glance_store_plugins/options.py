"""Typed driver options: declared by each driver, parsed and checked by the base class.

Config adapters feed option values as they come (strings from an ini file, or already-typed
values); :func:`parse_options` converts them and fails loudly with :class:`ConfigError` on an
unknown name, a value of the wrong type or a missing required option.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from glance_store_plugins.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@attrs.frozen(kw_only=True)
class Option:
    """One option of a driver.

    ``type`` is one of ``str``, ``int``, ``float``, ``bool``, ``list`` (a list of strings; a
    string value is split on commas). ``secret`` values are scrubbed from error messages.
    """

    name: str
    type: type = str
    default: Any = None
    help: str = ""
    required: bool = False
    secret: bool = False

    def parse(self, value: Any) -> Any:
        """Convert ``value`` to this option's type or raise ``ValueError``."""
        if value is None:
            return None
        if self.type is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError(f"expected a boolean, got {value!r}")
        if self.type is int:
            if isinstance(value, bool | float):
                raise ValueError(f"expected an integer, got {value!r}")
            return int(str(value).strip(), 10) if isinstance(value, str) else int(value)
        if self.type is float:
            if isinstance(value, bool):
                raise ValueError(f"expected a number, got {value!r}")
            return float(value)
        if self.type is list:
            if isinstance(value, str):
                return [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(value, list | tuple):
                return [str(part) for part in value]
            raise ValueError(f"expected a list, got {value!r}")
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        return value


def parse_options(
    specs: Mapping[str, Option], given: Mapping[str, Any], *, where: str
) -> dict[str, Any]:
    """Check ``given`` against ``specs`` and return every option's value (defaults filled in).

    ``where`` names the backend and driver in error messages.
    """
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)}; "
            f"valid options: {', '.join(sorted(specs)) or '(none)'}"
        )
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        raw = given.get(name)
        if raw is None:
            if spec.required:
                raise ConfigError(f"{where}: option {name} is required")
            values[name] = spec.default
            continue
        try:
            values[name] = spec.parse(raw)
        except (TypeError, ValueError) as exc:
            shown = "(secret)" if spec.secret else repr(raw)
            raise ConfigError(f"{where}: bad value {shown} for option {name}: {exc}") from None
    return values
