"""What a file's bytes are, whatever its name: a PDF, an HTML page, XML, text, or binary content that is no
document (an image, an archive, NUL bytes)."""

from __future__ import annotations

import re

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"), (b"II*\x00", "TIFF image"), (b"MM\x00*", "TIFF image"), (b"RIFF", "RIFF media file"),
    (b"PK\x03\x04", "ZIP archive, e.g. .docx or .xlsx"), (b"PK\x05\x06", "ZIP archive, e.g. .docx or .xlsx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Microsoft Office file, e.g. .doc or .xls"), (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"), (b"Rar!\x1a\x07", "RAR archive"), (b"\xfd7zXZ\x00", "xz archive"),
    (b"\x28\xb5\x2f\xfd", "Zstandard archive"), (b"\x7fELF", "program"),
)
_CONTROLS = bytes([*range(0, 9), *range(14, 32), 127])  # all but tab, line feed, vertical tab, form feed, return
# XML opens with its declaration, a doctype, a comment or a start tag: "<3 months after ..." is text
_MARKUP = re.compile(rb"<(?:\?xml|!DOCTYPE|!--|[A-Za-z_][\w.:-]*(?:\s|/?>))", re.IGNORECASE)


def sniff(data: bytes) -> tuple[str, str]:
    """The format ("pdf", "binary", "html", "xml" or "text") and, for binary content, what it is."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF"):
        return "pdf", ""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return "binary", kind
    printable = data.translate(None, _CONTROLS)
    controls = len(data) - len(printable)
    # a stray control character is cleaned from text; many, or nothing else, make binary content
    if controls > max(8, len(data) // 100) or (controls and not printable.strip()):
        return "binary", "NUL bytes" if 2 * data.count(b"\x00") >= controls else "control characters"
    lowered = head[:1024].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered[:300]:
        return "html", ""
    if _MARKUP.match(head):
        return "xml", ""
    return "text", ""


def detect_format(data: bytes) -> str:
    return sniff(data)[0]
