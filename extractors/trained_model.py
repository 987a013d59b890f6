"""Which trained scispaCy model is installed, if any, found from the installed distributions without importing
spaCy (the work cache asks on every run, and a run with nothing new to extract never loads spaCy)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, distribution

TRAINED_MODELS = ("en_core_sci_lg", "en_core_sci_md", "en_core_sci_sm")


def trained_model_name() -> str | None:
    """The name of an installed trained scispaCy model, if any (spaCy's own ``util.is_package`` test)."""
    for name in TRAINED_MODELS:
        try:
            distribution(name)
        except PackageNotFoundError:
            continue
        return name
    return None
