"""What a field reader reads besides the text itself: the patient it reads about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PatientContext:
    """What the case assembly knows of a patient before the rules read its sentences."""
    infusion_date: date | None = None  # the CAR-T infusion's calendar date (day 0), when the account gives one
