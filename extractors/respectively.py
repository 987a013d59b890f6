"""Statements telling several patients' values side by side, read one patient at a time.

"A man and a woman, aged 34 and 61 years, respectively, ..." and "Patients 1 and 3 received two and four doses,
respectively" pair the i-th item of each list with the i-th patient the statement is about. For the i-th of n patients
the other items of every list of n items before "respectively" are taken out of the text ("A man, aged 34 years, ...",
"Patients 1 received two doses"), and so are the clauses told of the others alone ("ICANS was absent in the man and
reached grade 2 in the woman"; "...; the woman also had anakinra"): the sentence then reads as a statement about that
patient, which every field reader reads as it reads any other. ``DealtText`` makes such a reading of the article and
maps its characters back, so that evidence points where each value is written.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, replace
from functools import cached_property

from spacy.tokens import Span

from extractors.evidence import Finding, concepts_in
from extractors.fields.demographics import SEX_NOUNS
from extractors.listed import OWN_FIGURE, Edit
from pipeline.document.model import Document

RESPECTIVELY = re.compile(r"\brespectively\b", re.IGNORECASE)

# a figure and a unit of the lists below: "2,840", "9.5"; "pg/mL", "%"
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
UNIT = r"%|[A-Za-zµμ]{1,4}/[A-Za-zµμ]{1,4}\b"
# One item of a list that pairs with the patients: a figure, with a prefix and a unit that may be written on the
# first or the last item only and then belong to all ("grade 3 and 4", "2,840 and 9,120 pg/mL")
ITEM_PARTS = rf"""(?<![\w+-])
    (?P<prefix>(?:day|D|H|hour|grade)\s*\+?\s*(?=\d))?       # "day 4", "D+6", "grade 3"
    (?P<value>
      {NUMBER}                                                  # "2,840", "9.5"
    | one|two|three|four|five|six|seven|eight|nine|ten|once|twice|thrice   # "two and four doses"
    | (?:an?|the)\s+(?:\d{{1,3}}[-\ ]year[-\ ]old\s+)?(?:{SEX_NOUNS})      # "a man", "a 55-year-old woman"
    | complete|partial|stable|progressive                      # "complete and partial responses"
    )
    (?P<unit>\s*(?:{UNIT}))?                                   # "2,840 pg/mL and 9,120 pg/mL", "94% and 88%"
"""
ITEM = re.sub(r"\(\?P<\w+>", "(?:", ITEM_PARTS)
# Items in a row, the last after "and" or "or": "2 and 3", "D+1, D+4 and D+6", "a man and a woman"
ITEMS = re.compile(rf"{ITEM}(?:\s*,\s*{ITEM})*,?\s+(?:and|or)\s+{ITEM}(?![\w-])", re.IGNORECASE | re.VERBOSE)
ONE_ITEM = re.compile(ITEM_PARTS, re.IGNORECASE | re.VERBOSE)
# One item that is a change from one figure to another, the unit on the last item belonging to all: "fell from 2,760
# to 190 pg/mL and from 5,430 to 415 pg/mL, respectively", "from 198 to 52 and from 265 to 88 mg/L"
CHANGE_PARTS = rf"""(?<![\w-])(?P<prefix>(?!))?
    (?P<value>from\s+(?:{NUMBER})(?:\s*(?:{UNIT}))?\s+to\s+(?:{NUMBER}))
    (?P<unit>\s*(?:{UNIT}))?"""
CHANGE = re.sub(r"\(\?P<\w+>", "(?:", CHANGE_PARTS)
CHANGES = re.compile(rf"{CHANGE}(?:\s*,\s*{CHANGE})*,?\s+(?:and|or)\s+{CHANGE}(?![\w-])", re.IGNORECASE | re.VERBOSE)
ONE_CHANGE = re.compile(CHANGE_PARTS, re.IGNORECASE | re.VERBOSE)
# What a list of concepts pairs with the patients: their cells, targets, diseases, responses and drugs
DEALT_CONCEPTS = ("CART_PRODUCT", "CART_TARGET", "DIAGNOSIS", "RESPONSE", "DRUG", "STEROID", "FLUID")
# Analytes listed before "respectively" pair the figures with themselves, not with the patients ("IL-6 and ferritin
# were 210 and 3,100, respectively")
ANALYTES = ("LAB", "MARKER")
# What a part of a sentence shares with the parts after it as their subject: "ICANS was absent in the man and ..."
SUBJECTS = ("CRS", "ICANS", "HLH", "LAB", "MARKER", "PE", "PURIFICATION", "DRUG", "STEROID", "TOCILIZUMAB", "FLUID")
# a value written before a subject, which is the part's own: "Grade 2 ICANS occurred in the woman"
VALUE_WORDS = re.compile(r"\d|\bgrade\b", re.IGNORECASE)
# A part of a sentence that names the patient it is about at its end: "absent in the man", "grade 2 in Patient 2"
PART_BREAK = re.compile(r"\s*;\s*|,?\s+(?:and|but|whereas|while)\s+|,\s+")


def _items(run: re.Match) -> list[re.Match]:
    return list(ONE_ITEM.finditer(run.string, run.start(), run.end()))


def _kept_only(items: list[re.Match], index: int) -> list[tuple[int, int]]:
    """What to take out of a run of items so that only the ``index``-th is left, with the prefix its first item
    gives the run and the unit its last item gives it."""
    first, last = items[0], items[-1]
    shared_prefix = first.group("prefix") and not any(item.group("prefix") for item in items[1:])
    shared_unit = last.group("unit") and not any(item.group("unit") for item in items[:-1])
    run_start = first.start("value") if shared_prefix else first.start()
    run_end = last.end("value") if shared_unit else last.end()
    kept = items[index]
    start = kept.start("value") if shared_prefix else kept.start()
    end = kept.end("value") if shared_unit else kept.end()
    return [r for r in ((run_start, start), (end, run_end)) if r[0] < r[1]]


def respective_deletions(sentence: Span, index: int, count: int) -> list[tuple[int, int]]:
    """The characters (document offsets) to take out of ``sentence``, a statement about ``count`` patients side by
    side, so that it tells of the ``index``-th (from 0) alone: in each stretch before a "respectively", every list of
    ``count`` figures or of ``count`` concepts of one kind keeps only its ``index``-th item."""
    text, base = sentence.text, sentence.start_char
    taken: list[tuple[int, int]] = []
    stretch_start = 0
    for marker in RESPECTIVELY.finditer(text):
        stretch = (stretch_start, marker.start())
        stretch_start = marker.end()
        if len({c.id_ for c in concepts_in(sentence, ANALYTES) if _inside(c, base, stretch)}) >= 2:
            continue
        changes = [items for run in CHANGES.finditer(text, *stretch)
                   if len(items := list(ONE_CHANGE.finditer(text, run.start(), run.end()))) == count]
        in_changes = [(items[0].start(), items[-1].end()) for items in changes]
        runs = changes + [items for run in ITEMS.finditer(text, *stretch) if len(items := _items(run)) == count
                          and not any(a <= run.start() < b for a, b in in_changes)]
        for items in runs:
            taken += [(base + a, base + b) for a, b in _kept_only(items, index)]
        in_runs = [(items[0].start(), items[-1].end()) for items in runs]
        for label in DEALT_CONCEPTS:
            found = [c for c in concepts_in(sentence, label) if _inside(c, base, stretch)
                     and not any(a <= c.start_char - base < b for a, b in in_runs)]
            if len(found) == count and len({c.id_ for c in found}) > 1:
                taken += [_with_space_after(text, base, c) for n, c in enumerate(found) if n != index]
    return taken


COORDINATION = re.compile(r"\b(?:and|or)\b", re.IGNORECASE)


def pairs_with_patients(sentence: Span, count: int) -> bool:
    """Whether a sentence that names no patient tells ``count`` patients' values side by side: a stretch before
    "respectively" whose every "and" joins a list of ``count`` figures ("TPE was started on day 4 and day 5,
    respectively"), not a list of other things the figures pair with ("Fever and hypotension began on day 1 and day 2,
    respectively")."""
    text = sentence.text
    stretch_start, found = 0, False
    for marker in RESPECTIVELY.finditer(text):
        runs = [run for run in ITEMS.finditer(text, stretch_start, marker.start()) if len(_items(run)) == count]
        joins = list(COORDINATION.finditer(text, stretch_start, marker.start()))
        if runs and all(any(run.start() <= j.start() < run.end() for run in runs) for j in joins):
            found = True
        elif joins:
            return False
        stretch_start = marker.end()
    return found


def dealt_sentence_text(sentence: Span, index: int, count: int) -> str:
    """The sentence's text as ``respective_deletions`` leaves it for the ``index``-th of ``count`` patients."""
    return without(sentence.text, merged(respective_deletions(sentence, index, count)), sentence.start_char)


def without(text: str, taken: list[tuple[int, int]], base: int = 0) -> str:
    """``text`` (starting at offset ``base``) with the merged, ordered ranges ``taken`` left out."""
    kept, last = [], 0
    for start, end in taken:
        kept.append(text[last:start - base])
        last = end - base
    return "".join(kept) + text[last:]


def clauses_of_others(sentence: Span, own: re.Pattern, others: re.Pattern) -> list[tuple[int, int]]:
    """The parts of a sentence about several patients that end on another patient and not on this one ("ICANS was
    absent in the man and reached grade 2 in the woman": the second part, for the man), and its clauses between
    semicolons that name another patient alone ("...; the woman also had anakinra")."""
    text, base = sentence.text, sentence.start_char
    semicolons = [m.start() for m in re.finditer(";", text)]
    if semicolons:
        end_of_text = len(text.rstrip())
        clauses = zip([0] + semicolons, semicolons + [end_of_text])
        taken = [(base + start, base + end) for start, end in clauses
                 if others.search(text, start, end) and not own.search(text, start, end)]
        if taken:
            return taken
    breaks = list(PART_BREAK.finditer(text))
    starts, ends = [0] + [m.end() for m in breaks], [m.start() for m in breaks] + [len(text)]
    # ("in the first two patients" ends on the second too, where it is the second's reading)
    told_of = [_ends_on(text[a:b], others) and not _ends_on(text[a:b], own) for a, b in zip(starts, ends)]
    if not any(told_of) or not any(_ends_on(text[a:b], own) for a, b in zip(starts, ends)):
        return _parts_opening_on_others(sentence, own, others)
    # a part goes with the break after it (the last with the one before it); the first keeps its subject, which the
    # parts after it share: "ICANS was absent in the man and reached grade 2 in the woman" -> "ICANS reached ..."
    kept_subject = [c.end_char - base + 1 for c in concepts_in(sentence, SUBJECTS) if c.end_char - base < ends[0]
                    and not VALUE_WORDS.search(text, 0, c.end_char - base)]  # not "Grade 2 ICANS ..."
    taken = []
    for n, other in enumerate(told_of):
        if not other:
            continue
        last = n + 1 == len(starts)
        start = ends[n - 1] if last and n > 0 else kept_subject[0] if n == 0 and kept_subject else starts[n]
        end = starts[n + 1] if not last else len(text[:ends[n]].rstrip().rstrip(".!;:"))
        taken.append((base + start, base + end))
    return taken


# what an elided clause lacks: a verb of its own ("and the woman three": no verb; "and the woman had three": one)
CLAUSE_VERB = re.compile(r"\b(?:was|were|is|are|had|has|have|did|received|underwent|got|developed|needed|required)\b",
                         re.IGNORECASE)
GAP_MOST_WORDS = 4


def gapped_edits(sentence: Span, own: re.Pattern, others: re.Pattern) -> list[Edit]:
    """The edits that read, for this patient, a clause told of another with its verb left out of this one's
    ("the man received two sessions and the woman three": "the man received three sessions"; "the man was in complete
    remission and the woman in partial remission": "... was in partial remission"): this one's remnant takes the
    place of the words it answers in the other's clause, a figure that of the figure, words that of the words from
    the one it opens with; the remnant's own clause is taken out."""
    text, base = sentence.text, sentence.start_char
    edits: list[Edit] = []
    for other in others.finditer(text):
        joined = re.compile(rf"\s*,?\s+and\s+(?:{own.pattern})\s+", re.IGNORECASE).search(text, other.end())
        if not joined or re.search(r"[,;]", text[other.end():joined.start()]):
            continue
        remnant = re.match(r"[^,;.()]+", text[joined.end():])
        if not remnant:
            continue
        words = remnant.group().strip()
        if not words or len(words.split()) > GAP_MOST_WORDS or CLAUSE_VERB.search(words):
            continue
        body_start, body = other.end(), text[other.end():joined.start()]
        if OWN_FIGURE.fullmatch(words):
            answered = OWN_FIGURE.search(body)
            span = answered and (body_start + answered.start(), body_start + answered.end())
        else:
            opening = re.search(rf"\b{re.escape(words.split()[0])}\b", body, re.IGNORECASE)
            span = opening and (body_start + opening.start(), joined.start())
        if not span:
            continue
        remnant_start = joined.end()
        remnant_end = remnant_start + len(remnant.group().rstrip())
        edits += [Edit(base + span[0], base + span[1], (base + remnant_start, base + remnant_start + len(words))),
                  Edit(base + joined.start(), base + remnant_end)]
    return edits


def _parts_opening_on_others(sentence: Span, own: re.Pattern, others: re.Pattern) -> list[tuple[int, int]]:
    """The parts of a sentence that open on other patients and not on this one, where another part opens on this one
    ("the first and the third were male and the second was female": the first part, for the second patient; "the
    first two products are directed against CD19 and the third against BCMA": the second part, for the first two)."""
    text, base = sentence.text, sentence.start_char
    referent = rf"(?:{own.pattern})|(?:{others.pattern})"
    # subjects joined by "and" open one part: "the first and the third"
    subject = re.compile(rf"\W*(?:(?:{referent})(?:\s*,\s*(?:{referent}))*\s*,?\s+and\s+(?:{referent})|{referent})",
                         re.IGNORECASE)
    joined = [m.span() for m in subject.finditer(text)]
    breaks = [m for m in PART_BREAK.finditer(text) if not any(a < m.start() < b for a, b in joined)]
    starts, ends = [0] + [m.end() for m in breaks], [m.start() for m in breaks] + [len(text)]
    subjects = [(found.group() if (found := subject.match(text, a, b)) else "") for a, b in zip(starts, ends)]
    opens_own = [bool(s) and bool(own.search(s)) for s in subjects]
    opens_other = [bool(s) and not own.search(s) and bool(others.search(s)) for s in subjects]
    if not any(opens_own) or not any(opens_other):
        return []
    taken = []
    for n, other in enumerate(opens_other):
        if other:
            last = n + 1 == len(starts)
            start = ends[n - 1] if last and n > 0 else starts[n]
            end = starts[n + 1] if not last else len(text[:ends[n]].rstrip().rstrip(".!;:"))
            taken.append((base + start, base + end))
    return taken


def _ends_on(part: str, referent: re.Pattern) -> bool:
    """Whether a part of a sentence ends on a patient: "reached grade 2 in the woman"."""
    return any(m.end() == len(part.rstrip().rstrip(".!;:")) for m in referent.finditer(part))


def _inside(span: Span, base: int, stretch: tuple[int, int]) -> bool:
    return stretch[0] <= span.start_char - base and span.end_char - base <= stretch[1]


def _same_figure(text: str, value: str) -> bool:
    """Whether a copied figure ("4 100", "9,800") is the value a reader gave ("4100")."""
    return re.sub(r"[\s,]", "", text) == value


def _inserted(edit: Edit) -> int:
    return edit.source[1] - edit.source[0] if edit.source else 0


def _with_space_after(text: str, base: int, span: Span) -> tuple[int, int]:
    end = span.end_char - base
    while end < len(text) and text[end] == " ":
        end += 1
    return span.start_char, base + end


def merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


@dataclass
class DealtText:
    """The article with some characters taken out or replaced by others of its own, and the way back to the
    article's characters."""
    document: Document
    edits: list[Edit]  # in order, not overlapping

    @classmethod
    def of(cls, document: Document, taken: list[tuple[int, int]], replaced: list[Edit] = ()) -> DealtText:
        """The reading without the ranges ``taken`` (merged) and with the replacements ``replaced``."""
        return cls(document, sorted([Edit(a, b) for a, b in merged(taken)] + list(replaced), key=lambda e: e.start))

    @cached_property
    def _shift_before(self) -> list[int]:
        """How far the i-th edit's start has moved in the dealt text (characters added minus taken out before it)."""
        shifts, shift = [], 0
        for edit in self.edits:
            shifts.append(shift)
            shift += _inserted(edit) - (edit.end - edit.start)
        return shifts + [shift]

    @cached_property
    def _pieces(self) -> tuple[list[int], list[int]]:
        """The dealt text as pieces of the article: where each piece starts in the dealt text and in the article."""
        dealt_starts, article_starts, last = [], [], 0
        for edit, shift in zip(self.edits, self._shift_before):
            dealt_starts.append(last + shift)
            article_starts.append(last)
            if edit.source:
                dealt_starts.append(edit.start + shift)
                article_starts.append(edit.source[0])
            last = edit.end
        dealt_starts.append(last + self._shift_before[-1])
        article_starts.append(last)
        return dealt_starts, article_starts

    def to_dealt(self, offset: int) -> int:
        """An offset of the article in the dealt text (one inside a range taken out or replaced goes to where the
        range was)."""
        i = bisect.bisect_right(self._edit_starts, offset) - 1
        if i < 0:
            return offset
        edit = self.edits[i]
        if offset < edit.end:
            return edit.start + self._shift_before[i]
        return offset + self._shift_before[i + 1]

    @cached_property
    def _edit_starts(self) -> list[int]:
        return [edit.start for edit in self.edits]

    @cached_property
    def _piece_ends(self) -> list[int]:
        """Where each piece of the dealt text ends in it."""
        return self._pieces[0][1:] + [len(self.document.text) + self._shift_before[-1]]

    def _piece(self, offset: int) -> int:
        return max(bisect.bisect_right(self._pieces[0], offset) - 1, 0)

    def to_article(self, offset: int) -> int:
        """An offset of the dealt text in the article (in a replacement, in the characters it was copied from)."""
        dealt_starts, article_starts = self._pieces
        i = self._piece(offset)
        return article_starts[i] + offset - dealt_starts[i]

    def _text(self) -> str:
        text, parts, last = self.document.text, [], 0
        for edit in self.edits:
            parts.append(text[last:edit.start])
            if edit.source:
                parts.append(text[edit.source[0]:edit.source[1]])
            last = edit.end
        return "".join(parts) + text[last:]

    @cached_property
    def dealt(self) -> Document:
        """The article as the patient's own reading: the same model, its text and every offset moved."""
        doc = self.document

        def moved(item):
            return item.model_copy(update={"start": self.to_dealt(item.start), "end": self.to_dealt(item.end)})

        tables = [table.model_copy(update={"start": self.to_dealt(table.start), "end": self.to_dealt(table.end),
                                           "cells": [moved(cell) for cell in table.cells]}) for table in doc.tables]
        dealt = doc.model_copy(update={"text": self._text(), "sections": [moved(s) for s in doc.sections],
                                       "paragraphs": [moved(p) for p in doc.paragraphs], "tables": tables})
        dealt.__dict__["sentences"] = [moved(s) for s in doc.sentences]
        return dealt

    def finding_in_dealt(self, finding: Finding) -> Finding:
        """A finding read from the article (a table's cell), on the dealt text's characters."""
        return replace(finding, start=self.to_dealt(finding.start), end=self.to_dealt(finding.end))

    def finding_in_article(self, finding: Finding) -> Finding:
        """A finding read from the dealt text, on the article's characters; one running from a replacement into the
        text around it ("5 days" of "TPE began 5 days after", where "5" stands for "a median of 3") points at the
        characters its start was copied from."""
        if finding.end <= finding.start:
            return replace(finding, start=self.to_article(finding.start), end=self.to_article(finding.end))
        start, end = self.to_article(finding.start), self.to_article(finding.end - 1) + 1
        first, last = self._piece(finding.start), self._piece(finding.end - 1)
        if first == last:
            return replace(finding, start=start, end=end)
        dealt_starts, article_starts = self._pieces
        pieces = [(article_starts[i], article_starts[i] + self._piece_ends[i] - dealt_starts[i])
                  for i in range(first, last + 1)]
        copies = [piece for piece in pieces if piece not in self._kept]
        # "IL-6 fell from 4 100 pg/mL ... to 350 pg/mL", both copied: the one that is the finding's value
        own = [piece for piece in copies if _same_figure(self.document.text[piece[0]:piece[1]], finding.value)]
        if len(own) == 1 or len(copies) == 1:
            start, end = (own or copies)[0]
        else:  # the whole stretch, from the article's characters the finding's ends and copies come from
            start, end = min([start, end - 1] + [a for a, _ in copies]), max([start + 1, end] + [b for _, b in copies])
        return replace(finding, start=start, end=end)

    @cached_property
    def _kept(self) -> set[tuple[int, int]]:
        """The article's own pieces of the dealt text (the others are copies put in a replacement's place)."""
        copies = {edit.source for edit in self.edits if edit.source}
        dealt_starts, article_starts = self._pieces
        return {(a, a + b - d) for a, d, b in zip(article_starts, dealt_starts, self._piece_ends)} - copies
