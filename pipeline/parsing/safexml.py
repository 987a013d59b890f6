"""Hostile-input XML parsing: no entity expansion, no DTD loading, no network."""

from __future__ import annotations

from lxml import etree

from pipeline.parsing.errors import ParseError


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, recover=False,
    )


def parse_xml(data: bytes, path: str) -> etree._Element:
    """Parse ``data`` or raise ParseError; documents that declare entities are refused."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ParseError(path, f"malformed XML ({exc.msg or exc})") from None
    except ValueError as exc:
        raise ParseError(path, f"unreadable XML ({exc})") from None
    if root is None:
        raise ParseError(path, "empty XML document")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ParseError(path, "XML declares entities in its DTD (possible XXE or entity-expansion attack); refused")
    return root


def local_name(element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[-1]
