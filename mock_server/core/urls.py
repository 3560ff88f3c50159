"""The URLs paymock is given to call (a webhook endpoint) or to send buyers to (a return URL):
`url_problem()` says what is wrong with one, before it is stored. A URL that passes is one the
HTTP client and the pages can use: http or https, a host that is an IP address or a DNS name
(IDNA-encodable, labels of 1 to 63 characters, 253 in all), a port from 1 to 65535."""
from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import urlsplit

MAX_HOST = 253
MAX_LABEL = 63
# An ASCII label, once IDNA-encoded: letters, digits, hyphens (and underscores, which DNS allows
# and container hostnames use).
LABEL = re.compile(r"^[A-Za-z0-9_-]+$")
SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def url_problem(url: object) -> str | None:
    """None for a usable absolute http(s) URL; otherwise what is wrong with it, to follow the
    field's name in an error ("return_url <problem>")."""
    if not isinstance(url, str) or not url:
        return "must be an http(s) URL"
    return _url_problem(url)


# A checkout's return URL is checked on every create, and a test run sends the same few:
# the answer for a string never changes.
@functools.lru_cache(maxsize=1024)
def _url_problem(url: str) -> str | None:
    if SPACE_OR_CONTROL.search(url):
        return "must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL" and the like
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an http(s) URL (http:// or https://)"
    try:
        port = parts.port
    except ValueError:
        return "has an invalid port: it must be a number from 1 to 65535"
    if port == 0:
        return "has an invalid port: it must be a number from 1 to 65535"
    host = parts.hostname
    if not host:
        return "has no host"
    problem = host_problem(host, bracketed=parts.netloc.rpartition("@")[2].startswith("["))
    return None if problem is None else f"has an invalid host: {problem}"


def host_problem(host: str, bracketed: bool = False) -> str | None:
    """None for an IP address or a valid DNS name; otherwise what is wrong with it."""
    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return f"{host!r} is not an IPv6 address"
        return None
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name's final dot
    if not name:
        return "it is empty"
    try:
        # (the idna codec is pure Python: an ASCII name needs no encoding, only the checks below)
        encoded = name if name.isascii() else name.encode("idna").decode("ascii")
    except UnicodeError:
        labels = name.split(".")
        if any(not label for label in labels):
            return "a label is empty (two dots in a row, or a dot at the start)"
        if any(len(label) > MAX_LABEL for label in labels):
            return f"a label is longer than {MAX_LABEL} characters"
        return "it cannot be IDNA-encoded"
    labels = encoded.split(".")
    if any(not label for label in labels):
        return "a label is empty (two dots in a row, or a dot at the start)"
    if any(len(label) > MAX_LABEL for label in labels):
        return f"a label is longer than {MAX_LABEL} characters"
    if len(encoded) > MAX_HOST:
        return f"it is longer than {MAX_HOST} characters"
    if not all(LABEL.match(label) for label in labels):
        return "it may hold only letters, digits, hyphens and dots"
    return None


def return_url_problem(url: object) -> str | None:
    """What is wrong with a URL a buyer is sent back to (a checkout's return or cancel URL), or
    None. An http(s) URL must be usable (`url_problem`); another scheme (an app's deep link,
    myapp://done) is kept as given, and the pages show their result instead of redirecting."""
    if url is None or url == "":
        return None
    if not isinstance(url, str):
        return "must be a URL"
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if scheme.lower() in ("http", "https"):
        return url_problem(url)
    return None


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine's (localhost, 127.0.0.0/8, ::1)."""
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
