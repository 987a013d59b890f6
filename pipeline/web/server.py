"""How `pecrs serve-ui` serves the curation page. The page has no login: it listens on this machine only unless
told to expose it, answers only requests addressed to the host names it serves, and binds its port before it says
where it listens."""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

from pipeline.store import Store
from pipeline.web.app import LOCAL_HOSTS, create_app


class ServeError(ValueError):
    """A setting the page cannot be served with; the message names the setting."""


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    address = _address(host)
    return host.lower() == "localhost" or (address is not None and address.is_loopback)


def _as_host_header(name: str) -> str:
    """A name as a browser writes it in the Host header (IPv6 addresses in brackets), without the port."""
    address = _address(name)
    return f"[{address}]" if address is not None and address.version == 6 else name.strip().lower()


def check_database(url: str | None) -> None:
    """A SQLite store given by URL must be in a folder that exists: a typo is not a new folder made silently."""
    if url is None:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ServeError(f"--database {url}: not a database URL (e.g. sqlite:///data/pecrs.db)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise ServeError(f"{folder}: folder not found (the folder of --database {url})")


@dataclass
class Listener:
    """A bound, listening socket and the Host headers the page answers there."""
    sock: socket.socket
    host: str
    hosts: list[str]
    exposed: bool

    @property
    def url(self) -> str:
        return f"http://{_as_host_header(self.host)}:{self.sock.getsockname()[1]}/"

    def warning(self) -> str:
        return (f"the page listens on {self.url} and has no login: anyone who can reach this port can read every "
                f"case and its evidence and record decisions under any name. It answers requests addressed to "
                f"{', '.join(self.hosts)} (add names with --allow-host).")


def listen(host: str, port: int, expose: bool = False, allow_hosts: list[str] | tuple = ()) -> Listener:
    """Bind ``host``:``port`` (port 0: one the system picks). An address beyond this machine needs ``expose``."""
    if not is_loopback(host) and not expose:
        raise ServeError(f"--host {host}: not this machine only, and the page has no login; add --expose to serve "
                         f"it to everyone who can reach that address")
    for name in allow_hosts:
        if "*" in name or "/" in name or not name.strip():
            raise ServeError(f"--allow-host {name!r}: not a host name")
    if not 0 <= port <= 65535:
        raise ServeError(f"--port {port}: not a port number (0 to 65535)")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise ServeError(f"--host {host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"--port {port}: already in use on {host} (another server listens there)") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"--host {host}: not an address of this machine") from None
        raise ServeError(f"--port {port}: cannot listen on {host} ({exc.strerror})") from None
    everywhere = _address(host) is not None and _address(host).is_unspecified
    names = [*LOCAL_HOSTS, socket.gethostname() if everywhere else host, *allow_hosts]
    return Listener(sock, host, list(dict.fromkeys(_as_host_header(n) for n in names)), not is_loopback(host))


def serve(listener: Listener, store: Store) -> None:
    """Run the page with uvicorn on the listener's socket until interrupted."""
    import uvicorn

    app = create_app(store, allowed_hosts=listener.hosts)
    uvicorn.Server(uvicorn.Config(app, log_level="info")).run(sockets=[listener.sock])
