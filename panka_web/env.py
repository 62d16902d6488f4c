"""Typed, fail-loud reading of settings from the environment.

A bad value is an ``ImproperlyConfigured`` error when settings load, naming the variable
and what it accepts: a typo in ``DEBUG`` must not quietly mean something else later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Env:
    """Reads variables from a mapping (``os.environ`` by default, a dict in tests)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        return None if value is None else value.strip()

    def str(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None or value == "" else value

    def optional_str(self, name: str) -> str | None:
        value = self.raw(name)
        return value or None

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false, 1/0)")

    def int(self, name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
        value = self.raw(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
        if not minimum <= number <= maximum:
            raise ImproperlyConfigured(f"{name}={number} is outside {minimum}..{maximum}")
        return number

    def list(self, name: str, default: list[str]) -> list[str]:
        value = self.raw(name)
        if value is None:
            return default
        return [item.strip() for item in value.split(",") if item.strip()]

    def url(self, name: str, *, schemes: tuple[str, ...]) -> str | None:
        value = self.optional_str(name)
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in schemes or not parsed.netloc:
            raise ImproperlyConfigured(
                f"{name}={value!r} is not a URL with scheme {' or '.join(schemes)}"
            )
        return value

    def name(self, name: str, default: str, *, pattern: str, what: str) -> str:
        value = self.str(name, default)
        if not re.fullmatch(pattern, value):
            raise ImproperlyConfigured(f"{name}={value!r} is not a valid {what}")
        return value
