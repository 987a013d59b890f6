"""A patient's record printed one field a line, "Label: value", as registries, case forms and handover sheets print it
("Number of exchanges: 2", "HLH / IEC-HS: not recorded"): each line is read as a table's row is, its label as the
header, through the field's cell reader, so a line and a cell go through the same vocabulary, bounds and units.

What a line says of the field its label names is the patient's value of that field; the prose rules' reading of
the same line for that field gives way to it ("HLH / IEC-HS: not recorded" names IEC-HS, but reports no value)."""

from __future__ import annotations

import re

from spacy.tokens import Doc, Span

from extractors.evidence import Finding
from extractors.fields import CELL_READERS, fields_read_by, read_value
from extractors.table_rules import header_field, is_missing

# "Maximum CRS grade (ASTCT): 3", "IL-6 before / after exchange (pg/mL): 2,150 / 164"; a label opens on a letter
LABELLED_LINE = re.compile(r"^(?P<label>[^\W\d_][^:\n]{0,60}?)\s*:[ \t]+(?P<value>\S[^\n]*?)\s*$")
# a value as a form's field holds it, not a sentence told after a label ("Outcome: she went home on day 21 and ...")
MOST_WORDS = 8
# a label names a field and holds no value of its own: not a note's event before a colon ("fever d1 -> CRS; gr 4
# (ASTCT) d3: 2 pressors + HFNC")
NOT_A_LABEL = re.compile(r"[;=→]|->|(?:^|\s)(?:[dD]\+?)?\d")


def _is_own_line(sentence: Span) -> bool:
    text = sentence.doc.text
    start, end = sentence.start_char, sentence.end_char
    return (start == 0 or text[start - 1] == "\n") and (end == len(text) or text[end - 1] == "\n" or
                                                       text[end:end + 1] in ("", "\n"))


def labelled_lines(sentences: list[Span]) -> list[tuple[Span, str, str, int, int]]:
    """The sentences that are lines "Label: value" whose label names a field: (line, key, label, value's start and
    end in the text)."""
    found = []
    for sentence in sentences:
        match = LABELLED_LINE.match(sentence.text.rstrip())
        if not match or not _is_own_line(sentence) or len(match.group("value").split()) > MOST_WORDS or \
                NOT_A_LABEL.search(match.group("label")):
            continue
        key = header_field(match.group("label"))
        if key is None or key not in CELL_READERS:
            continue
        base = sentence.start_char
        found.append((sentence, key, match.group("label"), base + match.start("value"), base + match.end("value")))
    return found


def line_findings(doc: Doc, sentences: list[Span]) -> tuple[list[Finding], list[tuple[int, int, set[str]]]]:
    """What the patient's labelled lines say, and the lines that settle their fields (each line's extent with the
    fields it settles): a line settles its fields when it gives them a value or says it has none."""
    findings: list[Finding] = []
    settled: list[tuple[int, int, set[str]]] = []
    for line, key, label, start, end in labelled_lines(sentences):
        written = doc.text[start:end]
        read = read_value(key, label, written, start, end, doc)
        if read or is_missing(written.strip()):
            findings += read
            settled.append((line.start_char, line.end_char, fields_read_by(key)))
    return findings, settled
