"""NCBI E-utilities: every protocol detail in one module, as Bio.Entrez keeps them.

Bio.Entrez's request functions hard-code NCBI's address, so the HTTP layer is ours (httpx); the rules are
NCBI's published ones (https://www.ncbi.nlm.nih.gov/books/NBK25497/):
- ``tool`` and ``email`` on every request, ``api_key`` when there is one;
- at most 3 requests per second without a key and 10 with one, whatever the number of threads;
- POST rather than GET when a request carries a long list of ids;
- 200 OK is no proof of success: the body can be an ``<ERROR>`` document, an HTML page or cut short.
Failures that may pass (429 with its Retry-After, 5xx, timeouts, broken connections, bad bodies) are
retried with exponential backoff and jitter (tenacity), a bounded number of times. A server is not trusted to
end what it starts: each request has a deadline and a size limit, both applied as its answer streams in, and a
search's paging ends at the count its first page announced, at a page that brings nothing new, or at a cap.
"""

from __future__ import annotations

import io
import socket
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import httpx
from lxml import etree
from pyrate_limiter import Duration, Limiter, Rate
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from pipeline.settings import (EUTILS_ATTEMPTS, EUTILS_BACKOFF, EUTILS_DEADLINE, EUTILS_MAX_BYTES, EUTILS_MAX_IDS,
                               EUTILS_TIMEOUT, EUTILS_URL, settings)
from pipeline.parsing.errors import ParseError
from pipeline.parsing.safexml import local_name, parse_xml

TOOL = "pecrs"
REQUESTS_PER_SECOND = 3
REQUESTS_PER_SECOND_WITH_KEY = 10
WINDOW_MARGIN_MS = 150
POST_ABOVE_IDS = 50  # NCBI: "use POST for more than about 200 UIDs"; a URL of 50 ids is already long


class EutilsError(Exception):
    """A request that failed for good, after its retries."""


class TransientError(Exception):
    """A failure worth retrying; ``retry_after`` is the server's Retry-After in seconds, if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class EutilsConfig:
    base_url: str = EUTILS_URL
    email: str = ""
    api_key: str = ""
    tool: str = TOOL
    timeout: float = EUTILS_TIMEOUT  # per read
    deadline: float = EUTILS_DEADLINE  # per request, in all
    attempts: int = EUTILS_ATTEMPTS
    backoff_seconds: float = EUTILS_BACKOFF
    backoff_max_seconds: float = 60.0
    max_response_bytes: int = EUTILS_MAX_BYTES
    max_search_ids: int = EUTILS_MAX_IDS

    @classmethod
    def from_settings(cls, **overrides) -> "EutilsConfig":
        """As settings() has it from PECRS_EUTILS_*, NCBI_EMAIL and NCBI_API_KEY (a bad one raises its ConfigError),
        with the ``overrides`` that are not None."""
        s = settings()
        configured = dict(base_url=s.eutils_url, email=s.ncbi_email or "", api_key=s.ncbi_api_key or "",
                          timeout=s.eutils_timeout, deadline=s.eutils_deadline, attempts=s.eutils_attempts,
                          backoff_seconds=s.eutils_backoff, max_response_bytes=s.eutils_max_bytes,
                          max_search_ids=s.eutils_max_ids)
        return cls(**configured | {k: v for k, v in overrides.items() if v is not None})

    @property
    def is_ncbi(self) -> bool:
        return httpx.URL(self.base_url).host.endswith("ncbi.nlm.nih.gov")

    @property
    def requests_per_second(self) -> int:
        return REQUESTS_PER_SECOND_WITH_KEY if self.api_key else REQUESTS_PER_SECOND


_limiters: dict[tuple[str, int], Limiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(base_url: str, per_second: int) -> Limiter:
    """One limiter per server for the whole process, so that threads and tasks share NCBI's allowance."""
    with _limiters_lock:
        key = (base_url, per_second)
        if key not in _limiters:
            # a sliding window of a second and a margin: requests leave ``per_second`` to a window, but arrive
            # with uneven delays, and the server counts arrivals
            _limiters[key] = Limiter(Rate(per_second, int(Duration.SECOND) + WINDOW_MARGIN_MS), buffer_ms=50)
        return _limiters[key]


@dataclass
class SearchResult:
    count: int  # as the first page announced it
    ids: list[str]
    webenv: str = ""
    query_key: str = ""
    problem: str = ""  # why ``ids`` may be short of what the search matched; "" when they are all there


@dataclass
class RequestLog:
    """What the client sent: a count per utility, for progress and for the run's summary."""
    counts: dict[str, int] = field(default_factory=dict)
    retries: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def ncbi_date(day: date) -> str:
    return day.strftime("%Y/%m/%d")


class EutilsClient:
    def __init__(self, config: EutilsConfig):
        if config.is_ncbi and not config.email:
            raise EutilsError("NCBI asks every client for a contact address: set NCBI_EMAIL (or pass --email)")
        self.config = config
        self.limiter = shared_limiter(config.base_url, config.requests_per_second)
        self.log = RequestLog()
        # a connection per request, as Bio.Entrez's urllib makes: its deadline can shut it down (see _Deadline)
        self._http = httpx.Client(timeout=min(config.timeout, config.deadline),
                                  limits=httpx.Limits(max_keepalive_connections=0),
                                  headers={"User-Agent": f"{config.tool} (mailto:{config.email or 'unknown'})"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "EutilsClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request, checked and retried ----------------------------------------------------------
    def request(self, utility: str, params: dict, ids: Iterable[str] = (), ids_apart: bool = False) -> etree._Element:
        """The XML root of ``utility``'s answer; raises EutilsError once the retries are spent.
        ``ids_apart`` sends each id as its own ``id`` parameter instead of one comma-joined list."""
        params = {k: v for k, v in params.items() if v not in (None, "")}
        params.update({"tool": self.config.tool, "email": self.config.email})
        if self.config.api_key:
            params["api_key"] = self.config.api_key
        ids = list(ids)
        if ids:
            params["id"] = ids if ids_apart else ",".join(ids)
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError), stop=stop_after_attempt(self.config.attempts),
            wait=self._wait, reraise=True, before_sleep=self._count_retry)
        try:
            return retrying(self._request_once, utility, params, post=len(ids) > POST_ABOVE_IDS)
        except TransientError as exc:
            raise EutilsError(f"{utility}: {exc} (after {self.config.attempts} attempts)") from None

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_random_exponential(multiplier=self.config.backoff_seconds, max=self.config.backoff_max_seconds)(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        return max(backoff, retry_after) if retry_after is not None else backoff

    def _count_retry(self, state: RetryCallState) -> None:
        self.log.retries += 1

    def _request_once(self, utility: str, params: dict, post: bool) -> etree._Element:
        url = f"{self.config.base_url.rstrip('/')}/{utility}.fcgi"
        self.limiter.try_acquire("eutils")
        self.log.counts[utility] = self.log.counts.get(utility, 0) + 1
        sent = {"data": params} if post else {"params": params}
        late = TransientError(f"no whole answer within {self.config.deadline:g} s")
        with _Deadline(self.config.deadline) as deadline:
            try:
                with self._http.stream("POST" if post else "GET", url, extensions=deadline.extensions,
                                       **sent) as response:
                    if response.status_code == 429 or response.status_code >= 500:
                        raise TransientError(f"HTTP {response.status_code}", _retry_after(response))
                    if response.status_code >= 400:
                        excerpt = next(response.iter_text(), "")[:200].strip()
                        raise EutilsError(f"{utility}: HTTP {response.status_code} ({excerpt})")
                    body = self._read_body(utility, response)
            except httpx.TimeoutException as exc:
                raise late if deadline.passed else TransientError(f"timed out ({type(exc).__name__})") from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                raise late if deadline.passed else TransientError(
                    f"connection failed ({type(exc).__name__}: {exc})") from None
            if deadline.passed:  # a body that ends with its connection may seem whole when it was cut
                raise late
        return _checked_body(utility, body)

    def _read_body(self, utility: str, response: httpx.Response) -> bytes:
        """The whole body, read in chunks as they come; leaving the stream unread closes its connection."""
        limit = self.config.max_response_bytes
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > limit:
            raise EutilsError(f"{utility}: answer of {int(announced):,} bytes is over the limit of {limit:,} bytes")
        body = io.BytesIO()  # its getvalue() hands over its buffer: the body is held once
        for chunk in response.iter_bytes():
            if body.tell() + len(chunk) > limit:
                raise EutilsError(f"{utility}: answer over the limit of {limit:,} bytes; refused as it arrived")
            body.write(chunk)
        return body.getvalue()

    # -- the utilities -----------------------------------------------------------------------------
    def esearch(self, db: str, term: str, mindate: date | None = None, maxdate: date | None = None,
                datetype: str = "edat", retmax: int = 10000, usehistory: bool = True) -> SearchResult:
        """Every matching id, each once (in pages of ``retmax``; PubMed serves the first 10,000), and the
        history-server handles of the search (from its first page). Paging ends at the count the first page
        announced, at ``max_search_ids``, or at a page with no id not already received (then ``problem`` says so)."""
        cap = self.config.max_search_ids
        seen: dict[str, None] = {}  # the ids in order, each once
        result = SearchResult(0, [])
        retstart = 0
        while True:
            root = self.request("esearch", {
                "db": db, "term": term, "usehistory": "y" if usehistory and not retstart else None, "retmax": retmax,
                "retstart": retstart or None, "datetype": datetype if (mindate or maxdate) else None,
                "mindate": ncbi_date(mindate) if mindate else None,
                "maxdate": ncbi_date(maxdate or date.today()) if mindate else None})
            if not retstart:
                result.count = _count(root)
                result.webenv, result.query_key = root.findtext("WebEnv") or "", root.findtext("QueryKey") or ""
            page = [i.text.strip() for i in root.iterfind("IdList/Id") if i.text]
            before = len(seen)
            seen.update(dict.fromkeys(page))
            retstart += retmax
            wanted = min(result.count, cap)
            if len(seen) >= wanted or retstart >= wanted or len(seen) == before:
                break
        result.ids = list(seen)[:cap]
        if len(result.ids) < wanted:
            why = "a page repeated ids already received" if page and len(seen) == before else "the server stopped"
            result.problem = f"{why} at {len(result.ids):,} of the {result.count:,} ids announced"
        elif result.count > cap:
            result.problem = f"{result.count:,} records matched; only the first {cap:,} were taken (PECRS_EUTILS_MAX_IDS)"
        return result

    def efetch(self, db: str, ids: Iterable[str] = (), webenv: str = "", query_key: str = "",
               retstart: int = 0, retmax: int = 200) -> etree._Element:
        """Records in XML, by id list or from the history server."""
        params = {"db": db, "retmode": "xml"}
        if webenv:
            params.update({"WebEnv": webenv, "query_key": query_key, "retstart": retstart, "retmax": retmax})
        return self.request("efetch", params, ids)

    def elink(self, dbfrom: str, db: str, ids: list[str], linkname: str) -> dict[str, list[str]]:
        """``{id: [linked ids]}``; each id is sent as its own ``id`` so the answer keeps one LinkSet per id."""
        # comma-joined ids get one LinkSet for them all; an id parameter each keeps a LinkSet per id
        root = self.request("elink", {"dbfrom": dbfrom, "db": db, "linkname": linkname}, ids, ids_apart=True)
        links: dict[str, list[str]] = {i: [] for i in ids}
        for linkset in root.iterfind("LinkSet"):
            sources = [i.text.strip() for i in linkset.iterfind("IdList/Id") if i.text]
            targets = [i.text.strip() for db_links in linkset.iterfind("LinkSetDb")
                       if (db_links.findtext("LinkName") or "") == linkname
                       for i in db_links.iterfind("Link/Id") if i.text]
            for source in sources:
                links.setdefault(source, []).extend(targets)
        return links


class _Deadline:
    """Ends a request at its deadline whatever it waits for (connection, headers, body): its connection is shut
    down under it. httpx's timeouts bound each read, and a server can send a byte just within each, for ever."""

    def __init__(self, seconds: float):
        self.passed = False
        self.extensions = {"trace": self._trace}  # httpx's trace hook tells of each connection as it is made
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Deadline":
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()

    def _trace(self, event: str, info: dict) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._socket = info["return_value"].get_extra_info("socket")
                if self.passed:
                    self._shut()

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            self._shut()

    def _shut(self) -> None:
        if self._socket is not None:
            try:  # socket.socket's own shutdown, also for TLS: the reading thread gets end-of-file
                socket.socket.shutdown(self._socket, socket.SHUT_RDWR)
            except OSError:  # closed already
                pass


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return min(max(float(value), 0.0), 300.0)
    except ValueError:
        return None


def _count(root: etree._Element) -> int:
    value = (root.findtext("Count") or "0").strip()
    if not value.isdigit():
        raise EutilsError(f"esearch: Count {value[:40]!r} is not a number")
    return int(value)


def _checked_body(utility: str, body: bytes) -> etree._Element:
    """The parsed XML of a 200 answer, or TransientError when it is not a whole E-utilities document."""
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise TransientError("an HTML page instead of XML")
    try:
        root = parse_xml(body, utility)
    except ParseError as exc:
        raise TransientError(f"unusable XML ({exc.reason})") from None
    error = root.findtext("ERROR") if local_name(root) != "ERROR" else root.text
    if error is not None or local_name(root) == "ERROR":
        raise TransientError(f"error document: {(error or '').strip()[:200]}")
    return root
