"""Sentence boundaries with pysbd, the segmenter scispaCy's sentencizer is built on."""

from __future__ import annotations

from functools import lru_cache

import pysbd


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as absolute offsets, trailing whitespace trimmed."""
    end = len(text) if end is None else end
    chunk = text[start:end]
    spans: list[tuple[int, int]] = []
    for piece in _segmenter().segment(chunk):
        s, e = piece.start, piece.end
        while e > s and chunk[e - 1].isspace():
            e -= 1
        while s < e and chunk[s].isspace():
            s += 1
        if e > s:
            spans.append((start + s, start + e))
    if not spans and chunk.strip():
        spans.append((start, end))
    return spans
