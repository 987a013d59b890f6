"""The fetch cache beside a corpus: one file per PubMed record and per PMC article, and the state of the
incremental search. Every write is atomic, so a run killed at any point leaves whole files and a state
that the next run simply continues from.

Layout (under ``<corpus>/cache/ncbi/``)::

    pubmed/<PMID>.xml               a PubmedArticleSet holding one record (its newest version)
    pmc/<PMCID>.xml                 a pmc-articleset holding one Open Access article (its newest version)
    versions/pubmed/<PMID>/<n>.xml  the record's earlier versions, 1 the first fetched; the current one is not here
    versions/pmc/<PMCID>/<n>.xml    the same for full texts
    state.json                      query, last entry date searched, and what is known of each PMID and PMCID

A record fetched again is compared with the stored one by a hash of its canonical XML. When it changed, the stored
file is first copied into versions/ and then replaced: a run killed in between leaves the old current file and its
copy, and the next revision does not copy it twice. versions/ is history only: documents() never lists it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from pipeline.outputs.atomic import atomic_write_bytes, atomic_write_json
from pipeline.parsing.errors import ParseError
from pipeline.parsing.safexml import parse_xml

CACHE_DIR = Path("cache") / "ncbi"
STATE_VERSION = 1
# what an id must be to name a file here (fullmatch them: ASCII digits only, no trailing newline)
PMID = re.compile(r"[0-9]{1,9}")
PMCID = re.compile(r"PMC[0-9]{1,9}")
VERSION = re.compile(r"[1-9][0-9]{0,8}")  # a version file's name, less ".xml"
# what storing a fetched record did
NEW, REVISED, UNCHANGED = "new", "revised", "unchanged"


class CacheError(Exception):
    pass


@dataclass
class FetchState:
    query: str = ""
    last_entry_date: str = ""  # YYYY-MM-DD of the last search that succeeded
    # PMID -> PMCID ("" when PMC has no copy we know of)
    pmcids: dict[str, str] = field(default_factory=dict)
    # PMIDs whose PMC link was asked of elink (so it is not asked again)
    linked: list[str] = field(default_factory=list)
    # PMCID -> runs in which PMC did not serve it as Open Access full text
    not_open_access: dict[str, int] = field(default_factory=dict)
    # PMID -> what its PubMed record says of its retraction, for the records that say they are retracted
    retracted: dict[str, str] = field(default_factory=dict)
    version: int = STATE_VERSION


class NcbiCache:
    def __init__(self, corpus_dir: Path):
        self.root = Path(corpus_dir) / CACHE_DIR
        self.pubmed_dir = self.root / "pubmed"
        self.pmc_dir = self.root / "pmc"
        self.state_path = self.root / "state.json"

    # -- state ---------------------------------------------------------------------------------------
    def load_state(self) -> FetchState:
        if not self.state_path.exists():
            return FetchState()
        try:
            raw = json.loads(self.state_path.read_text(encoding="utf-8"))
            known = {k: v for k, v in raw.items() if k in FetchState.__dataclass_fields__}
            state = FetchState(**known)
            # ids that cannot be ids (written by a version that did not check what the server sent) are let go
            state.pmcids = {pmid: pmcid if PMCID.fullmatch(pmcid) else "" for pmid, pmcid in state.pmcids.items()
                            if PMID.fullmatch(pmid)}
            state.retracted = {pmid: str(why) for pmid, why in state.retracted.items() if PMID.fullmatch(pmid)}
            return state
        except (ValueError, TypeError, AttributeError) as exc:
            raise CacheError(f"{self.state_path}: unreadable fetch state ({exc}); move it aside to start afresh") from None

    def save_state(self, state: FetchState) -> None:
        atomic_write_json(self.state_path, asdict(state))

    def retractions(self) -> dict[str, str]:
        """PMID -> how its stored PubMed record says it was retracted."""
        return self.load_state().retracted

    # -- records -------------------------------------------------------------------------------------
    def pubmed_path(self, pmid: str) -> Path:
        if not PMID.fullmatch(pmid):
            raise CacheError(f"not a PMID: {pmid!r}")
        return self.pubmed_dir / f"{pmid}.xml"

    def pmc_path(self, pmcid: str) -> Path:
        if not PMCID.fullmatch(pmcid):
            raise CacheError(f"not a PMCID: {pmcid!r}")
        return self.pmc_dir / f"{pmcid}.xml"

    def has_pubmed(self, pmid: str) -> bool:
        return self.pubmed_path(pmid).exists()

    def has_pmc(self, pmcid: str) -> bool:
        return self.pmc_path(pmcid).exists()

    def store_pubmed(self, pmid: str, record: etree._Element) -> str:
        """NEW, REVISED (the stored record went into its versions) or UNCHANGED (nothing written)."""
        return _store(self.pubmed_path(pmid), self._history("pubmed", pmid), "PubmedArticleSet", record)

    def store_pmc(self, pmcid: str, article: etree._Element) -> str:
        """As store_pubmed, for a PMC full text."""
        return _store(self.pmc_path(pmcid), self._history("pmc", pmcid), "pmc-articleset", article)

    def pubmed_versions(self, pmid: str) -> list[Path]:
        """The record's earlier versions, oldest first (the current one is pubmed_path)."""
        self.pubmed_path(pmid)  # checks the id
        return _versions(self._history("pubmed", pmid))

    def pmc_versions(self, pmcid: str) -> list[Path]:
        self.pmc_path(pmcid)
        return _versions(self._history("pmc", pmcid))

    def _history(self, kind: str, name: str) -> Path:
        return self.root / "versions" / kind / name

    def stored_pmids(self) -> set[str]:
        return {p.stem for p in self.pubmed_dir.glob("*.xml")} if self.pubmed_dir.is_dir() else set()

    def documents(self) -> list[Path]:
        """The files a run should parse: each article once, its PMC full text when stored, else its record."""
        if not self.root.is_dir():
            return []
        state = self.load_state()
        full_texts = {p.stem: p for p in self.pmc_dir.glob("*.xml")} if self.pmc_dir.is_dir() else {}
        covered = {pmid for pmid, pmcid in state.pmcids.items() if pmcid in full_texts}
        records = [p for p in sorted(self.pubmed_dir.glob("*.xml")) if p.stem not in covered] if self.pubmed_dir.is_dir() else []
        return sorted(full_texts.values()) + records


def _store(path: Path, history: Path, root_name: str, element: etree._Element) -> str:
    if not path.exists():
        atomic_write_bytes(path, _wrapped(root_name, element))
        return NEW
    current = path.read_bytes()
    if _stored_digest(current) == _digest(element):
        return UNCHANGED
    _keep_version(history, current)
    atomic_write_bytes(path, _wrapped(root_name, element))
    return REVISED


def _keep_version(history: Path, current: bytes) -> None:
    """``current`` as the next version, unless the newest already is it: a run killed before it replaced the
    current file kept it, and its revision is being completed."""
    versions = _versions(history)
    if versions and versions[-1].read_bytes() == current:
        return
    number = int(versions[-1].stem) + 1 if versions else 1
    atomic_write_bytes(history / f"{number}.xml", current)


def _versions(history: Path) -> list[Path]:
    found = [p for p in history.glob("*.xml") if VERSION.fullmatch(p.stem)] if history.is_dir() else []
    return sorted(found, key=lambda p: int(p.stem))


def _digest(element: etree._Element) -> str:
    """A hash of the element's canonical XML: attribute order, namespace declarations it does not use and its
    tail (the whitespace of a wrapping) make no difference."""
    try:
        canonical = etree.tostring(element, method="c14n", exclusive=True)
    except etree.C14NError:  # libxml2's C14N refuses relative namespace URIs; the plain form still compares
        canonical = etree.tostring(element, with_tail=False)
    return hashlib.sha256(canonical).hexdigest()


def _stored_digest(data: bytes) -> str:
    """The digest of the one element a stored file wraps; "" for a file that cannot be read (it is replaced)."""
    try:
        root = parse_xml(data, "stored record")
    except ParseError:
        return ""
    return _digest(root[0]) if len(root) else ""


def _wrapped(root_name: str, element: etree._Element) -> bytes:
    root = etree.Element(root_name)
    record = copy.deepcopy(element)
    record.tail = None
    root.append(record)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
