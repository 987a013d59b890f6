"""Flattening inline XML markup (italics, sub/superscripts, cross-references) into plain text."""

from __future__ import annotations

import re

from pipeline.parsing.safexml import local_name

# Markers that point at footnotes or references: their text is not part of the sentence.
_MARKER_REF_TYPES = {"table-fn", "fn"}
_MARKER_TEXT = re.compile(r"^[\s,\-–\[\]()\d*†‡§¶#a-zA-Z]{0,12}$")


def _is_marker(element, name: str) -> bool:
    if name == "xref":
        return element.get("ref-type", "") in _MARKER_REF_TYPES and _MARKER_TEXT.match("".join(element.itertext()) or "")
    if name == "sup":
        text = "".join(element.itertext()).strip()
        # a letter or symbol footnote mark, or a citation list such as "12,13" or "4-6"
        return bool(text) and (re.fullmatch(r"[a-zA-Z*†‡§¶#]{1,2}", text) is not None or _only_xrefs(element))
    return False


def _only_xrefs(element) -> bool:
    children = list(element)
    return bool(children) and all(local_name(c) == "xref" for c in children)


def inline_text(element, skip: frozenset[str] = frozenset()) -> str:
    """The text of ``element`` with markup flattened; children named in ``skip`` are left out."""
    if not len(element):  # most cells and many paragraphs are plain text
        return element.text or ""
    parts: list[str] = []
    _collect(element, parts, skip)
    return "".join(parts)


def _collect(element, parts: list[str], skip: frozenset[str]) -> None:
    """The text inside ``element`` (not its tail), children flattened. Hot: leaf children are read in
    place rather than by recursion."""
    if element.text:
        parts.append(element.text)
    for child in element:
        tag = child.tag
        name = tag if tag.__class__ is str and tag[:1] != "{" else local_name(child)
        if name in skip or ((name == "xref" or name == "sup") and _is_marker(child, name)):
            pass
        elif name == "sup":
            text = "".join(child.itertext())
            previous = parts[-1] if parts else ""
            parts.append(("^" if previous[-1:].isalnum() else "") + text)
        elif name == "break" or name == "br":
            parts.append(" ")
        elif len(child):
            _collect(child, parts, skip)
        elif child.text:
            parts.append(child.text)
        if child.tail:
            parts.append(child.tail)
