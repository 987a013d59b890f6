"""Values listed per patient beside a statement about several: each patient's figure in a parenthesis after a summary
of them all, or each item of a list followed by its patient's label.

"TPE began a median of 3 days after infusion (patient 1, day 3; patient 2, day 5; patient 3, day 2)" tells, for
Patient 2, "TPE began 5 days after infusion"; "Best responses were partial response (Patient 1), complete response
(Patient 2) and stable disease (Patient 3)" tells "Best responses were complete response". ``listed_edits`` gives the
edits that make such a reading for one patient: ranges to take out, and the summary figure replaced by the patient's
own (the ``source`` range, so that evidence points at the patient's figure where the article writes it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from extractors.cues import GROUP_SUMMARY_WORD, NUMBER_SIGN, PATIENT_NUMBER, PATIENT_WORD, number_of

LABEL = rf"{PATIENT_WORD}\s*(?:{NUMBER_SIGN}\s*)?(?P<n>{PATIENT_NUMBER})"
PARENTHESIS = re.compile(r"\((?P<body>[^()]*)\)")
# one item of a parenthesis listing the patients' values: "patient 1, day 3", "P2: 4 100", "patient 3, one"
VALUE_ITEM = re.compile(rf"""
    \s*{LABEL}\s*[,:]\s*
    (?P<value>(?:[^;,]|(?<=\d),(?=\d{{3}}))+?)\s*    # "day 3", "6 200", "9,800"; not "34M, B-ALL, academic CAR-T"
    """, re.IGNORECASE | re.VERBOSE)
# a parenthesis holding nothing but a patient's label: "complete response (Patient 2)"
LABEL_ONLY = re.compile(rf"\(\s*{LABEL}\s*\)", re.IGNORECASE)
FIGURE = r"\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|once|twice"
OWN_FIGURE = re.compile(rf"(?<![\w.])(?:{FIGURE})(?![\w])", re.IGNORECASE)
# the summary the listed values stand for: "a median of 3 (days ...)", "a mean of 2", or a figure right before them
SUMMARY = re.compile(rf"""
    (?:\b(?:an?\s+)?{GROUP_SUMMARY_WORD}\s+(?:of\s+)?(?P<figure>{FIGURE})(?![\w])
     | (?<![\w.])(?P<bare>{FIGURE})\s*$)
    """, re.IGNORECASE | re.VERBOSE)
# where the statement the first labelled item belongs to starts: "Best responses were | partial response (Patient 1)"
ITEM_OPENING = re.compile(r"(?:\b(?:was|were|is|are|had|has|have|showed|achieved|reached|being)\b|[:;,])\s*",
                          re.IGNORECASE)
# the patients a part of a statement ends on: "3 in Patients 1 and 2", "... and 4 in Patient 3", "grade 2 for pt 4",
# "on D+4 for Pt 2 and Pt 5"
LABEL_WORD = rf"(?:{PATIENT_WORD}s?|pts\.?)\s*(?:{NUMBER_SIGN}\s*)?"
IN_PATIENTS = re.compile(rf"""
    \s+(?:in|for)\s+(?:the\s+)?{LABEL_WORD}
    (?P<numbers>{PATIENT_NUMBER}                                                    # not "2 and 4 in"
      (?:\s*(?:,|and|&)\s*(?:{LABEL_WORD})?{PATIENT_NUMBER}\b(?!\s+(?:in|for)\s))*)\b
    """, re.IGNORECASE | re.VERBOSE)
PART_SEPARATOR = re.compile(r"\s*(?:,\s*(?:and\s+|but\s+|whereas\s+|while\s+)?|;\s*|\s(?:and|but|whereas|while)\s+)",
                            re.IGNORECASE)
ITEM_SEPARATOR = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s+)", re.IGNORECASE)


@dataclass(frozen=True)
class Edit:
    """Characters ``start``-``end`` of a text taken out, or replaced by the characters ``source`` of the same text."""
    start: int
    end: int
    source: tuple[int, int] | None = None


def _value_lists(text: str) -> list[tuple[re.Match, dict[int, re.Match]]]:
    """The parentheses listing two or more patients' values, each with its items by patient number."""
    found = []
    for parenthesis in PARENTHESIS.finditer(text):
        start = parenthesis.start("body")
        items: dict[int, re.Match] = {}
        for part in re.finditer(r"[^;]+", parenthesis.group("body")):
            item = VALUE_ITEM.fullmatch(text, start + part.start(), start + part.end())
            number = number_of(item.group("n")) if item else 0
            if not number or number in items:
                break
            items[number] = item
        else:
            if len(items) >= 2:
                found.append((parenthesis, items))
    return found


def _labelled_items(text: str) -> dict[int, tuple[int, re.Match]]:
    """The items of a list each followed by its patient's label in a parenthesis ("partial response (Patient 1),
    complete response (Patient 2) and ..."), in order, by patient number: where the item starts, and its label."""
    labels = list(LABEL_ONLY.finditer(text))
    numbers = [number_of(m.group("n")) for m in labels]
    if len(labels) < 2 or 0 in numbers or len(set(numbers)) < len(numbers):
        return {}
    items = {}
    for n, label in enumerate(labels):
        if n == 0:
            openings = list(ITEM_OPENING.finditer(text, 0, label.start()))
            start = openings[-1].end() if openings else 0
        else:
            separator = ITEM_SEPARATOR.match(text, labels[n - 1].end())
            if not separator or "(" in text[separator.end():label.start()]:
                return {}  # not one list: "..." between the items is more than a comma or "and"
            start = separator.end()
        items[numbers[n]] = (start, label)
    return items


def _parts_in_patients(text: str) -> list[tuple[int, int, set[int]]]:
    """The parts of a statement that each end on the patients they tell of ("Maximum CRS grade was 3 in Patients 1
    and 2 and 4 in Patient 3"), with where each part's own words start, where it ends, and its patients; the first
    part's own words are as many as the second's ("3" as "4"), the words before them the subject of all."""
    ends = list(IN_PATIENTS.finditer(text))
    groups = [{number_of(re.sub(rf"^{LABEL_WORD}", "", t, flags=re.IGNORECASE))
               for t in re.split(r"\s*(?:,|and|&)\s*", m.group("numbers"), flags=re.IGNORECASE)} for m in ends]
    if len(ends) < 2 or any(0 in g for g in groups) or len(set().union(*groups)) < sum(map(len, groups)):
        return []
    parts = []
    for n, (end, group) in enumerate(zip(ends, groups)):
        if n == 0:
            continue
        separator = PART_SEPARATOR.match(text, ends[n - 1].end())
        if not separator or len(text[separator.end():end.start()].split()) > 4:
            return []
        parts.append((separator.end(), end.end(), group))
    words = len(text[parts[0][0]:ends[1].start()].split())
    head = re.search(rf"(?:\S+\s+){{{words - 1}}}\S+$", text[:ends[0].start()])
    if not head:
        return []
    return [(head.start(), ends[0].end(), groups[0])] + parts


def listed_patients(text: str) -> set[int]:
    """The patients whose values a text lists side by side, any of these ways."""
    numbers = {n for _, items in _value_lists(text) for n in items}
    return numbers | set(_labelled_items(text)) | {n for *_, group in _parts_in_patients(text) for n in group}


def listed_spans(text: str) -> list[tuple[int, int]]:
    """Where a text lists values per patient in a parenthesis: labels there open no clause about the patient."""
    return [parenthesis.span() for parenthesis, _ in _value_lists(text)]


def listed_edits(text: str, number: int) -> list[Edit]:
    """The edits that leave, of every list of values per patient in ``text``, patient ``number``'s value alone, in the
    place of the summary where there is one."""
    edits: list[Edit] = []
    clause_start = 0
    for parenthesis, items in _value_lists(text):
        own = items.get(number)
        before = text[clause_start:parenthesis.start()]
        clause_start = parenthesis.end()
        if own is None:
            continue
        figure = OWN_FIGURE.search(text, own.start("value"), own.end("value"))
        summaries = list(SUMMARY.finditer(before))
        summary = summaries[-1] if summaries else None
        if figure and summary:
            offset = parenthesis.start() - len(before)
            edits.append(Edit(offset + summary.start(), offset + summary.end("figure" if summary.group("figure") else "bare"),
                              figure.span()))
            edits.append(Edit(len(text[:parenthesis.start()].rstrip()), parenthesis.end()))
        else:
            edits.append(Edit(parenthesis.start() + 1, own.start("value")))
            edits.append(Edit(own.end("value"), parenthesis.end() - 1))
    parts = _parts_in_patients(text)
    own = next((n for n, (*_, group) in enumerate(parts) if number in group), None)
    if own is not None:
        if own > 0:
            edits.append(Edit(parts[0][0], parts[own][0]))
        if own + 1 < len(parts):
            edits.append(Edit(parts[own][1], parts[-1][1]))
    items = _labelled_items(text)
    if number in items:
        order = list(items)
        first_start = items[order[0]][0]
        own_start, own_label = items[number]
        if own_start > first_start:
            edits.append(Edit(first_start, own_start))
        edits.append(Edit(len(text[:own_label.start()].rstrip()), items[order[-1]][1].end()))
    return edits
