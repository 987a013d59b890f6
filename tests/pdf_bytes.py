"""Small PDFs written object by object for the parsers' tests: one content stream a page, 612 points wide,
Helvetica as F1 and Helvetica-Bold as F2."""

FONTS = (b"/Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> "
         b"/F2 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold >> >>")


def pdf_bytes(pages: list[bytes], filters: str = "", height: float = 792) -> bytes:
    """A PDF of ``pages``, each a content stream (compressed or not, as ``filters`` says: "/Filter /FlateDecode")."""
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode()]
    for i, content in enumerate(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 {height}] /Contents {4 + 2 * i} 0 R "
                       f"/Resources << ".encode() + FONTS + b" >> >>")
        objects.append(f"<< /Length {len(content)} {filters} >>\nstream\n".encode() + content + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
