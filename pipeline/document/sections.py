"""Section kinds from section titles: rules as data."""

from __future__ import annotations

import re

# First matching rule wins; patterns are matched against the lower-cased title.
SECTION_RULES: list[tuple[str, str]] = [
    ("back", r"\b(references?|bibliography|acknowledge?ments?|funding|conflicts? of interest|competing interests?|"
             r"author contributions?|data availability|ethics|consent|abbreviations|supplementary|disclosures?|footnotes)\b"),
    ("abstract", r"^(abstract|summary|synopsis)\b"),
    # a handover's SBAR parts are the patient's: "B - Background" is no introduction
    ("case", r"^[sba]\s*[-–—:.)]\s*(situation|background|assessment)\b"),
    ("discussion", r"^r\s*[-–—:.)]\s*recommendations?\b"),  # what the next shift should do, not what was done
    ("discussion", r"^(?:actions?|action\s+points|action\s+plan|recommendations?)\s*:?$"),  # a meeting's actions
    # a patient made up to show a point: no patient of the article's
    ("discussion", r"\b(hypothetical|fictional|imaginary|worked examples?|teaching scenarios?)\b"),
    ("discussion", r"^differential diagnosis\b"),
    # a teaching case's answers to the questions it put, which tell what was found and done
    ("case", r"^answers?\b(?!.*\bteaching\b)"),
    ("case", r"\b(discussion of management|management|hospital course|treatment and outcome|follow-?up|final diagnosis|"
             r"presentation of (?:the )?case|history of present illness|investigations?|(?:on|at) admission|"
             # the headings of a CARE-guideline case report
             r"patient information|clinical findings|timeline|diagnostic assessment|therapeutic interventions?)\b"),
    ("discussion", r"\bdifferential diagnosis\b"),
    ("case", r"\b(case (presentation|report|description|summary|history|\d+)|cases?\b|patients? \d+|clinical (course|history)|"
             r"patient (description|history|presentation|background)|presentation|history|(?:the|our|this) patient)\b"),
    ("introduction", r"\b(introduction|background)\b"),
    ("methods", r"\b(methods?|materials|patients and methods|study design|statistical)\b"),
    ("results", r"\b(results?|findings|outcomes?)\b"),
    ("discussion", r"\b(discussion|comment(?:ary)?|review of (the )?literature|literature review)\b"),
    # general lessons, not the patient's story
    ("discussion", r"\b(key messages|teaching points?|lessons? (?:learned|learnt|for)|what (?:we|i) (?:have )?(?:learned|learnt))\b"),
    ("conclusion", r"\b(conclusions?|concluding|learning points?|take-?home|key points)\b"),
]
_COMPILED = [(kind, re.compile(pattern)) for kind, pattern in SECTION_RULES]


def classify_section(title: str, parent_kind: str | None = None) -> str:
    """The kind of a section; the parts of an abstract and of the back matter keep their parent's kind."""
    if parent_kind in ("abstract", "back"):
        return parent_kind
    lowered = title.lower().strip()
    for kind, pattern in _COMPILED:
        if pattern.search(lowered):
            return kind
    if parent_kind and parent_kind not in ("title",):
        return parent_kind
    return "other"
