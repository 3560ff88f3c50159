"""core/urls.py: which URLs paymock calls or sends buyers to, and what it says about the rest."""
from __future__ import annotations

import pytest

from mock_server.core.urls import return_url_problem, url_problem


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9000/hooks", "https://shop.example/thanks?x=1#y", "http://localhost",
    "https://[::1]:8080/x", "https://bücher.example/", "http://host.docker.internal:1/",
    "http://my_service:65535/", "https://shop.example./", f"http://{'a' * 63}.example/",
])
def test_usable_urls(url):
    assert url_problem(url) is None and return_url_problem(url) is None


@pytest.mark.parametrize("url, problem", [
    ("http://a..b/", "has an invalid host: a label is empty"),
    ("http://.a/", "has an invalid host: a label is empty"),
    (f"http://{'a' * 64}.example/", "has an invalid host: a label is longer than 63"),
    (f"http://{'a.' * 127}example/", "has an invalid host: it is longer than 253"),
    ("http://exa$mple.com/", "has an invalid host: it may hold only"),
    ("https://shop.example:99999/", "has an invalid port"),
    ("https://shop.example:0/", "has an invalid port"),
    ("https://shop.example:abc/", "has an invalid port"),
    ("https://[::1", "is not a valid URL"),
    ("http://[zz]/", "is not a valid URL"),
    ("http:///x", "has no host"),
    ("http://a b/", "must not contain spaces"),
    ("ftp://example.com/x", "must be an http(s) URL"),
    ("", "must be an http(s) URL"),
    (None, "must be an http(s) URL"),
])
def test_unusable_urls_say_why(url, problem):
    assert problem in url_problem(url)


def test_return_urls_of_other_schemes_are_kept_but_never_malformed_web_ones():
    for kept in (None, "", "myapp://done", "javascript:alert(1)", "/relative"):
        assert return_url_problem(kept) is None
    assert "has an invalid port" in return_url_problem("HTTPS://shop.example:99999/")
    assert "is not a valid URL" in return_url_problem("myapp://[::1")
    assert return_url_problem(42) == "must be a URL"
