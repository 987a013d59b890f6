"""A small E-utilities server on 127.0.0.1 for tests: esearch (PubMed and PMC, by entry or modification date,
with a history server), efetch (PubMed and PMC) and elink, over generated records and real recorded ones, which
tests can revise, with faults injected on demand.

It keeps a log of every request (time, utility, parameters) so tests can check what the client sent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape

from lxml import etree


@dataclass
class Record:
    pmid: str
    entered: date
    pmcid: str = ""  # PMC copy, if any
    pmcid_in_record: bool = True  # False: only elink knows the PMC copy
    open_access: bool = True
    xml: bytes = b""  # a real recorded PubmedArticle, served as it is
    modified: date | None = None  # what a search by modification date sees (None: as entered)
    revision: int = 1  # written into the generated abstract, so that a revision changes the record
    abstract: str = ""  # the generated abstract's text, when set
    retracted: str = ""  # the retraction notice's citation: the generated record then says it is retracted
    pmc_modified: date | None = None  # of the PMC copy, as ``modified``
    pmc_revision: int = 1  # written into the generated full text's body
    # the generated record's DateRevised (None: as entered): the date of its last change of content, which a
    # touch() (a new modification date, same content) leaves
    revised: date | None = None

    def last_modified(self) -> date:
        return self.modified or self.entered

    def pmc_last_modified(self) -> date:
        return self.pmc_modified or self.entered


RAW = -1  # an answer's status: its body is the whole answer, status line and headers included


@dataclass
class Faults:
    """Every n-th request (counted from 1 over all utilities) fails this way; 0 is never."""
    too_many: int = 0  # 429 with Retry-After
    server_error: int = 0  # 500
    truncated: int = 0  # 200 with half the body
    timeout: int = 0  # answers only after ``timeout_seconds``
    html: int = 0  # 200 with an HTML error page
    reset: int = 0  # the connection is closed without an answer
    retry_after: str = "1"
    timeout_seconds: float = 3.0


@dataclass
class LoggedRequest:
    at: float
    method: str
    utility: str
    params: dict[str, list[str]]
    status: int = 200
    sent: int = 0  # bytes of the answer's body written
    done: threading.Event = field(default_factory=threading.Event)  # set once the answer is written or given up


@dataclass
class FakeNcbi:
    records: list[Record] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    pmc_articles: dict[str, bytes] = field(default_factory=dict)  # real recorded PMC articles by PMCID
    canned: dict[str, bytes] = field(default_factory=dict)  # term -> a recorded esearch answer
    broken_ids: set[str] = field(default_factory=set)  # an efetch that asks for any of these always fails (500)
    # an efetch that asks for any of these is answered a byte every ``drip_seconds``, for as long as it is read:
    # its body, or with ``drip_head`` the whole answer from its status line on (and headers without end)
    dripping_ids: set[str] = field(default_factory=set)
    drip_seconds: float = 0.05
    drip_head: bool = False
    padding: int = 0  # bytes of whitespace after each efetch answer's document, sent without a Content-Length
    endless_search: int = 0  # esearch announces this Count and answers every page with the first page's ids
    pmc_dates: dict[str, date] = field(default_factory=dict)  # PMCID of pmc_articles -> its PMC modification date
    broken_searches: set[tuple[str, str]] = field(default_factory=set)  # (db, datetype) whose esearch fails (500)
    log: list[LoggedRequest] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._histories: dict[str, list[str]] = {}
        self.stopped = threading.Event()  # the server is shutting down: dripping answers end

    # -- generated data ------------------------------------------------------------------------------
    @classmethod
    def generated(cls, count: int, start_pmid: int = 30000000, full_text_every: int = 5, **kwargs) -> "FakeNcbi":
        """``count`` records entered over the past years; every ``full_text_every``-th has an Open Access
        PMC copy, one in ten of those known only through elink; every 50th has a PMC copy that is not OA."""
        records = []
        for i in range(count):
            pmcid = ""
            open_access = True
            if i % full_text_every == 0:
                pmcid = f"PMC{9000000 + i}"
            elif i % 50 == 7:
                pmcid, open_access = f"PMC{9000000 + i}", False
            records.append(Record(str(start_pmid + i), date(2019, 1, 1) + timedelta(days=i % 2000), pmcid,
                                  pmcid_in_record=(i // full_text_every) % 10 != 3, open_access=open_access))
        return cls(records=records, **kwargs)

    def add_records(self, count: int, entered: date, start_pmid: int) -> list[str]:
        new = [Record(str(start_pmid + i), entered) for i in range(count)]
        with self._lock:
            self.records.extend(new)
        return [r.pmid for r in new]

    # -- revisions -----------------------------------------------------------------------------------
    def revise(self, pmid: str, on: date, abstract: str | None = None, xml: bytes | None = None,
               retracted: str | None = None) -> None:
        """A new version of the record, modified ``on``: its generated content changes with its revision; ``xml``
        replaces a recorded record's bytes."""
        with self._lock:
            record = self._record(pmid)
            record.revision += 1
            record.modified = record.revised = on
            if abstract is not None:
                record.abstract = abstract
            if xml is not None:
                record.xml = xml
            if retracted is not None:
                record.retracted = retracted

    def touch(self, pmid: str, on: date) -> None:
        """A new modification date and the same content (as PubMed's MeSH-only or no-op revisions)."""
        with self._lock:
            self._record(pmid).modified = on

    def revise_pmc(self, pmcid: str, on: date, body: bytes | None = None) -> None:
        """A new version of the PMC article, modified ``on``: ``body`` replaces a recorded article's bytes."""
        with self._lock:
            for record in self.records:
                if record.pmcid == pmcid:
                    record.pmc_revision += 1
                    record.pmc_modified = on
            if pmcid in self.pmc_articles:
                self.pmc_dates[pmcid] = on
                if body is not None:
                    self.pmc_articles[pmcid] = body

    def _record(self, pmid: str) -> Record:
        return next(r for r in self.records if r.pmid == pmid)

    # -- serving -------------------------------------------------------------------------------------
    def answer(self, method: str, path: str, params: dict[str, list[str]]) -> tuple[LoggedRequest, int, dict, bytes | Iterator[bytes]]:
        """The request's log entry, and the answer's status, headers and body (bytes, or chunks to stream)."""
        utility = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        with self._lock:
            entry = LoggedRequest(time.monotonic(), method, utility, params)
            self.log.append(entry)
            n = len(self.log)
        return (entry, *self._answer(entry, n))

    def _answer(self, entry: LoggedRequest, n: int) -> tuple[int, dict, bytes | Iterator[bytes]]:
        utility, params = entry.utility, entry.params
        faults = self.faults
        if faults.timeout and n % faults.timeout == 0:
            time.sleep(faults.timeout_seconds)
        if faults.reset and n % faults.reset == 0:
            entry.status = 0
            return 0, {}, b""
        if faults.too_many and n % faults.too_many == 0:
            entry.status = 429
            return 429, {"Retry-After": faults.retry_after}, b'{"error":"API rate limit exceeded"}'
        if faults.server_error and n % faults.server_error == 0:
            entry.status = 500
            return 500, {}, b"<html><body>Internal Server Error</body></html>"
        if faults.html and n % faults.html == 0:
            return 200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html><body>Service unavailable</body></html>"
        asked = set(self._efetch_ids(params) or ()) if utility == "efetch" else set()
        searched = (_one(params, "db"), _one(params, "datetype") or "edat") if utility == "esearch" else None
        if self.broken_ids & asked or searched in self.broken_searches:
            entry.status = 500
            return 500, {}, b"<html><body>Internal Server Error</body></html>"
        handler = {"esearch": self.esearch, "efetch": self.efetch, "elink": self.elink}.get(utility)
        if handler is None:
            entry.status = 404
            return 404, {}, b"unknown utility"
        body = handler(params)
        if faults.truncated and n % faults.truncated == 0:
            body = body[: len(body) // 2]
        if self.dripping_ids & asked:
            if self.drip_head:
                head = b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n" + b"X-Padding: %s\r\n" % (b"x" * 80) * 1000
                return RAW, {}, self._dripped(head + b"\r\n" + body)
            return 200, {"Content-Type": "text/xml"}, self._dripped(body)
        if self.padding and utility == "efetch":
            return 200, {"Content-Type": "text/xml"}, _padded(body, self.padding)
        return 200, {"Content-Type": "text/xml"}, body

    def _dripped(self, body: bytes) -> Iterator[bytes]:
        for at in range(len(body)):
            if self.stopped.wait(self.drip_seconds):
                return
            yield body[at:at + 1]

    def esearch(self, params) -> bytes:
        term = _one(params, "term")
        if term in self.canned:
            return self.canned[term]
        if self.endless_search:
            params = {**params, "retstart": ["0"]}
        mindate, maxdate = _day(_one(params, "mindate")), _day(_one(params, "maxdate"))
        modified = _one(params, "datetype") == "mdat"

        def within(day: date | None) -> bool:
            return day is not None and (mindate is None or day >= mindate) and (maxdate is None or day <= maxdate)

        with self._lock:
            if _one(params, "db") == "pmc":  # PMC's uids: its PMCIDs without "PMC"
                dated = [(r.pmc_last_modified() if modified else r.entered, r.pmcid) for r in self.records if r.pmcid]
                dated += [(self.pmc_dates.get(pmcid), pmcid) for pmcid in self.pmc_articles]
                dated = [(day, pmcid.removeprefix("PMC")) for day, pmcid in dated
                         if within(day) or (day is None and mindate is None and maxdate is None)]
            else:
                dated = [(r.last_modified() if modified else r.entered, r.pmid) for r in self.records]
                dated = [(day, pmid) for day, pmid in dated if within(day)]
        dated.sort(key=lambda hit: (hit[0] or date.min, hit[1]), reverse=True)
        ids = list(dict.fromkeys(uid for _, uid in dated))
        retstart, retmax = int(_one(params, "retstart") or 0), int(_one(params, "retmax") or 20)
        root = etree.Element("eSearchResult")
        etree.SubElement(root, "Count").text = str(self.endless_search or len(ids))
        etree.SubElement(root, "RetMax").text = str(min(retmax, max(0, len(ids) - retstart)))
        etree.SubElement(root, "RetStart").text = str(retstart)
        if _one(params, "usehistory") == "y":
            with self._lock:
                webenv = f"MCID_{len(self._histories) + 1:08d}"
                self._histories[webenv] = ids
            etree.SubElement(root, "QueryKey").text = "1"
            etree.SubElement(root, "WebEnv").text = webenv
        id_list = etree.SubElement(root, "IdList")
        for pmid in ids[retstart:retstart + retmax]:
            etree.SubElement(id_list, "Id").text = pmid
        return _document(root)

    def _efetch_ids(self, params) -> list[str] | None:
        """The ids an efetch asks for, by list or from the history server; None for an unknown WebEnv."""
        if not _one(params, "WebEnv"):
            return _ids(params)
        history = self._histories.get(_one(params, "WebEnv"))
        if history is None:
            return None
        start, size = int(_one(params, "retstart") or 0), int(_one(params, "retmax") or 20)
        return history[start:start + size]

    def efetch(self, params) -> bytes:
        ids = self._efetch_ids(params)
        if ids is None:
            root = etree.Element("eFetchResult")
            etree.SubElement(root, "ERROR").text = "Unable to obtain query #1"
            return _document(root)
        return self.pubmed_set(ids) if _one(params, "db") == "pubmed" else self.pmc_set(ids)

    def pubmed_set(self, pmids: list[str]) -> bytes:
        by_pmid = {r.pmid: r for r in self.records}
        parts = [b'<?xml version="1.0" ?>\n<PubmedArticleSet>\n']
        for pmid in pmids:
            record = by_pmid.get(pmid)
            if record is not None:
                parts.append(record.xml or _generated_pubmed(record))
        parts.append(b"</PubmedArticleSet>\n")
        return b"".join(parts)

    def pmc_set(self, ids: list[str]) -> bytes:
        by_pmcid = {r.pmcid: r for r in self.records if r.pmcid}
        parts = [b'<?xml version="1.0" ?>\n<pmc-articleset>']
        for raw in ids:
            pmcid = raw if raw.upper().startswith("PMC") else f"PMC{raw}"
            if pmcid in self.pmc_articles:
                parts.append(self.pmc_articles[pmcid])
            elif pmcid in by_pmcid:
                parts.append(_generated_pmc(by_pmcid[pmcid]))
        parts.append(b"</pmc-articleset>\n")
        return b"".join(parts)

    def elink(self, params) -> bytes:
        by_pmid = {r.pmid: r for r in self.records}
        root = etree.Element("eLinkResult")
        # repeated id parameters: one LinkSet each; a comma-joined list: one LinkSet for all
        groups = [value.split(",") for value in params.get("id", [])]
        for group in groups:
            linkset = etree.SubElement(root, "LinkSet")
            etree.SubElement(linkset, "DbFrom").text = "pubmed"
            id_list = etree.SubElement(linkset, "IdList")
            links = []
            for pmid in group:
                etree.SubElement(id_list, "Id").text = pmid
                record = by_pmid.get(pmid)
                if record is not None and record.pmcid:
                    links.append(record.pmcid.removeprefix("PMC"))
            if links:
                db = etree.SubElement(linkset, "LinkSetDb")
                etree.SubElement(db, "DbTo").text = "pmc"
                etree.SubElement(db, "LinkName").text = "pubmed_pmc"
                for link in links:
                    etree.SubElement(etree.SubElement(db, "Link"), "Id").text = link
        return _document(root)

    # -- checks on the log ---------------------------------------------------------------------------
    def efetched(self, db: str) -> list[str]:
        """The ids the logged efetches of ``db`` asked for, in order: by id list or from the history server."""
        return [i for r in self.log if r.utility == "efetch" and r.params.get("db") == [db]
                for i in self._efetch_ids(r.params) or []]

    def most_in_one_second(self) -> int:
        times = sorted(r.at for r in self.log)
        return max((sum(1 for u in times[i:] if u < t + 1.0) for i, t in enumerate(times)), default=0)


def _one(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[0]


def _ids(params: dict[str, list[str]]) -> list[str]:
    return [i for value in params.get("id", []) for i in value.split(",") if i]


def _day(value: str) -> date | None:
    if not value:
        return None
    year, month, day = (int(x) for x in value.split("/"))
    return date(year, month, day)


def _document(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _padded(body: bytes, size: int) -> Iterator[bytes]:
    yield body
    chunk = b" " * (1 << 16)
    for start in range(0, size, len(chunk)):
        yield chunk[:size - start]


def _generated_pubmed(record: Record) -> bytes:
    pmc = f'<ArticleId IdType="pmc">{record.pmcid}</ArticleId>' if record.pmcid and record.pmcid_in_record else ""
    day, revised = record.entered, record.revised or record.entered
    abstract = escape(record.abstract or f"A generated abstract for record {record.pmid}.")
    return (
        f'<PubmedArticle><MedlineCitation Status="PubMed-not-MEDLINE" Owner="NLM"><PMID Version="1">{record.pmid}</PMID>'
        f'<DateRevised><Year>{revised.year}</Year><Month>{revised.month:02d}</Month>'
        f'<Day>{revised.day:02d}</Day></DateRevised>'
        f'<Article PubModel="Electronic"><Journal><JournalIssue><PubDate><Year>{day.year}</Year></PubDate></JournalIssue>'
        f'<Title>Journal of Generated Cases</Title></Journal><ArticleTitle>Plasma exchange after CAR-T cells, record {record.pmid}</ArticleTitle>'
        f'<Abstract><AbstractText>{abstract} (Revision {record.revision}.)</AbstractText></Abstract>'
        f'{_retraction_marks(record)}</Article>{_retraction_notice(record)}</MedlineCitation>'
        f'<PubmedData><History><PubMedPubDate PubStatus="entrez"><Year>{day.year}</Year><Month>{day.month}</Month><Day>{day.day}</Day>'
        f'</PubMedPubDate></History><ArticleIdList><ArticleId IdType="pubmed">{record.pmid}</ArticleId>'
        f'<ArticleId IdType="doi">10.5555/generated.{record.pmid}</ArticleId>{pmc}</ArticleIdList>'
        # a reference's ids must not be taken for the article's own
        f'<ReferenceList><Reference><Citation>Another article.</Citation><ArticleIdList>'
        f'<ArticleId IdType="pmc">PMC1</ArticleId></ArticleIdList></Reference></ReferenceList></PubmedData></PubmedArticle>\n'
    ).encode()


def _retraction_marks(record: Record) -> str:
    if not record.retracted:
        return ""
    return ('<PublicationTypeList><PublicationType UI="D016441">Retracted Publication</PublicationType>'
            '</PublicationTypeList>')


def _retraction_notice(record: Record) -> str:
    if not record.retracted:
        return ""
    notice = str(90000000 + int(record.pmid) % 10000000) if record.pmid.isdigit() else "90000000"
    return (f'<CommentsCorrectionsList><CommentsCorrections RefType="RetractionIn">'
            f'<RefSource>{escape(record.retracted)}</RefSource><PMID Version="1">{notice}</PMID>'
            f'</CommentsCorrections></CommentsCorrectionsList>')


def _generated_pmc(record: Record) -> bytes:
    body = (f"<body><sec><title>Case presentation</title><p>Generated full text of record {record.pmid} "
            f"(revision {record.pmc_revision}).</p></sec></body>"
            if record.open_access else
            "<!--The publisher of this article does not allow downloading of the full text in XML form.-->")
    return (
        f'<article article-type="case-report"><front><article-meta>'
        f'<article-id pub-id-type="pmid">{record.pmid}</article-id><article-id pub-id-type="pmc">{record.pmcid.removeprefix("PMC")}</article-id>'
        f'<title-group><article-title>Full text of record {record.pmid}</article-title></title-group></article-meta></front>'
        f"{body}</article>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeNcbi

    def _serve(self, method: str, params: dict[str, list[str]]) -> None:
        entry, status, headers, body = self.server.fake.answer(method, urlparse(self.path).path, params)
        try:
            self._write(entry, status, headers, body)
        finally:
            entry.done.set()

    def _write(self, entry: LoggedRequest, status: int, headers: dict, body: bytes | Iterator[bytes]) -> None:
        if status == 0:  # a reset: drop the connection unanswered
            self.close_connection = True
            self.connection.shutdown(2)
            return
        try:
            if status == RAW:  # the answer as it is, status line and headers included
                self.close_connection = True
            else:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if isinstance(body, bytes):
                    self.send_header("Content-Length", str(len(body)))
                else:  # streamed: the body ends when the connection closes
                    self.close_connection = True
                self.end_headers()
            for chunk in [body] if isinstance(body, bytes) else body:
                self.wfile.write(chunk)
                entry.sent += len(chunk)
        except OSError:  # the client gave up (a timeout, deadline or size test)
            pass

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET", parse_qs(urlparse(self.path).query))

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._serve("POST", parse_qs(self.rfile.read(length).decode()))

    def log_message(self, format, *args) -> None:  # quiet
        pass


class EutilsServer:
    """``with EutilsServer(fake) as url: ...`` serves ``fake`` on a free port of 127.0.0.1."""

    def __init__(self, fake: FakeNcbi):
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = fake
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc) -> None:
        self.fake.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def real_records(ncbi_dir: Path) -> list[Record]:
    """The real PubMed records recorded in ../shared/data/ncbi, each served as it was recorded."""
    records = []
    for path in sorted(ncbi_dir.glob("pubmed*.xml")):
        root = etree.fromstring(path.read_bytes(), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
        for article in root:
            if not isinstance(article.tag, str) or article.tag not in ("PubmedArticle", "PubmedBookArticle"):
                continue
            pmid = article.findtext(".//PMID")
            pmc = next((a.text for a in article.iterfind("PubmedData/ArticleIdList/ArticleId") if a.get("IdType") == "pmc"), "")
            article.tail = None
            # their PMC copies were not recorded: PMC is made to withhold them
            records.append(Record(pmid, date(2018, 6, 1), pmc or "", open_access=False, xml=etree.tostring(article) + b"\n"))
    return records
