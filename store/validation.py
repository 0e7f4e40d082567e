"""Checks of values that come from customers, channels and import files."""

from __future__ import annotations

from store.errors import InvalidInput


def clean_text(name: str, value: str | None, max_length: int, required: bool = True) -> str | None:
    """The value stripped; InvalidInput if required and empty, too long, or holding a NUL character."""
    if value is None or not value.strip():
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    value = value.strip()
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain NUL characters")
    if len(value) > max_length:
        raise InvalidInput(f"{name} is {len(value)} characters long; at most {max_length} are allowed")
    return value


def one_of(name: str, value: str, allowed: frozenset[str] | tuple[str, ...]) -> str:
    """The value if it is one of `allowed`, else InvalidInput listing them."""
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(sorted(allowed))}; got {value!r}")
    return value
