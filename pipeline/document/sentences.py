"""Sentence boundaries with pysbd, the segmenter scispaCy's sentencizer is built on."""

from __future__ import annotations

import re
from functools import lru_cache

import pysbd


class _Segmenter(pysbd.Segmenter):
    """pysbd without its last pass, which compiles one regex per sentence to find each sentence again
    in the input: split_sentences locates the (unaltered, clean=False) sentences with str.find instead.
    That pass was more than a third of all parsing time."""

    def segment(self, text: str) -> list[str]:
        return self.processor(text).process() if text else []


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return _Segmenter(language="en", clean=False, char_span=False)


# pysbd breaks only after one of these (or at a line break); a chunk without any before its end is one sentence
_POSSIBLE_BREAK = re.compile(r"[.!?…\n\r]")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as absolute offsets, trailing whitespace trimmed."""
    end = len(text) if end is None else end
    chunk = text[start:end]
    stripped = chunk.rstrip()
    if not stripped.strip():
        return []
    if not _POSSIBLE_BREAK.search(stripped, 0, len(stripped) - 1):
        lead = len(chunk) - len(chunk.lstrip())
        return [(start + lead, start + len(stripped))]
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in _segmenter().segment(chunk):
        piece = piece.strip()
        if not piece:
            continue
        found = chunk.find(piece, cursor)
        if found < 0:  # pysbd altered the text after all: fall back to the rest of the chunk as one sentence
            spans.append((start + cursor, start + len(chunk.rstrip())))
            break
        spans.append((start + found, start + found + len(piece)))
        cursor = found + len(piece)
    if not spans and chunk.strip():
        spans.append((start, end))
    return _rejoin_parentheses(text, _rejoin_numbers(text, spans))


_LEADING_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d+)?[.)])\s+(?=\S)")
_ENDS_SENTENCE = re.compile(r"[.!?…:;)\]\"'’”]\s*$")


def _rejoin_numbers(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """pysbd takes "on day 3. Then ... day 4. She ..." for a numbered list and splits after "day":
    a sentence that starts with "3. " after one that does not end a sentence gets its number back."""
    repaired: list[tuple[int, int]] = []
    for s, e in spans:
        if repaired:
            ps, pe = repaired[-1]
            number = _LEADING_NUMBER.match(text[s:e])
            if number and not _ENDS_SENTENCE.search(text[ps:pe]) and re.search(r"\w$", text[ps:pe]):
                repaired[-1] = (ps, s + len(number.group(1)))
                rest = s + number.end()
                if rest < e:
                    repaired.append((rest, e))
                continue
        repaired.append((s, e))
    return repaired


_LOWER_START = re.compile(r"[a-z]")


def _rejoin_parentheses(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """pysbd may split after a closing parenthesis: "given twice (day 2 and day 3) | and a third dose was given".
    A sentence that starts in lower case on the line of one that ends with ")" goes on with it."""
    repaired: list[tuple[int, int]] = []
    for s, e in spans:
        if repaired:
            ps, pe = repaired[-1]
            if text[pe - 1] == ")" and _LOWER_START.match(text, s) and not text[pe:s].strip(" \t"):
                repaired[-1] = (ps, e)
                continue
        repaired.append((s, e))
    return repaired
