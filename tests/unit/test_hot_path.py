"""Small pieces on every request's path: JSON answers and random ids."""
import os

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from mock_server.core import ids
from mock_server.core.http import JsonResponse, json_response


def send(response, method="POST"):
    env = EnvironBuilder(method=method, path="/dodo/checkouts").get_environ()
    seen = []
    body = b"".join(response(env, lambda status, headers, exc_info=None: seen.append((status, headers))))
    return seen[0], body


@pytest.mark.parametrize("status,headers", [(200, None), (422, {"X-Request-Id": "r1"}),
                                            (429, {"Retry-After": "2"}), (500, None),
                                            (201, {"Location": "/dodo/checkouts/cks_1"}),
                                            (200, {"content-location": "cks_1"})])
def test_json_answers_go_out_exactly_as_werkzeug_would_send_them(status, headers):
    payload = {"code": "X", "message": "é ünïcode", "n": [1, 2]}
    ours = send(json_response(payload, status, headers))
    theirs = send(Response(json_response(payload).get_data(), status=status, headers=headers,
                           content_type="application/json"))
    assert ours == theirs
    (line, sent), body = ours
    assert line.startswith(str(status)) and ("Content-Length", str(len(body))) in sent


def test_a_changed_body_gets_its_own_length_and_head_and_204_take_werkzeugs_path():
    response = json_response({"a": 1})
    response.set_data(b'{"a": 1, "truncated')  # a fault mangling the body after the fact
    (_, headers), body = send(response)
    assert dict(headers)["Content-Length"] == str(len(body)) == "19"
    (_, headers), body = send(json_response({"a": 1}), method="HEAD")
    assert body == b"" and dict(headers)["Content-Length"] == "7"
    (line, headers), body = send(JsonResponse(b"", status=204))
    assert line.startswith("204") and body == b"" and "Content-Length" not in dict(headers)


def test_ids_are_uniform_unique_and_not_shared_with_a_forked_child():
    drawn = "".join(ids.base62(21) for _ in range(6000))
    counts = {c: drawn.count(c) for c in ids.BASE62}
    assert len(counts) == 62 and min(counts.values()) > 1760 and max(counts.values()) < 2300  # 2,032 +- 6 sd
    assert len({ids.base62(21) for _ in range(20000)}) == 20000
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child draws from a fresh pool, not a copy of the parent's
        os.write(write, ids.base62(21).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 64).decode() != ids.base62(21)


@pytest.mark.parametrize("path,base_url,headers", [
    ("/dodo/checkouts", "http://127.0.0.1:8787", {}),
    ("/checkout/dodo/session/cks_1", "http://localhost", {}),  # port 80: dropped from the host
    ("/dodo/products", "https://shop.example.com:443/app", {}),
    ("/dodo/checkouts/caf%C3%A9", "http://bücher.example", {}),  # IDNA host, UTF-8 path
    ("/_mock/state", "http://[::1]:8787", {"Host": "bad host!"}),  # invalid: the empty host
])
def test_the_url_map_binds_each_request_exactly_as_flask_does(path, base_url, headers):
    from flask import Flask
    from mock_server.app import create_app

    app = create_app()
    environs = [EnvironBuilder(path=path, base_url=base_url, headers=headers,
                               query_string={"q": "é", "n": "1"}).get_environ() for _ in range(2)]
    adapters = []
    for environ in environs:  # the first binds and keeps the host's outcome, the second reuses it
        ours = app.request_class(environ)
        theirs = app.request_class(dict(environ))
        adapters.append((vars(app.create_url_adapter(ours)), ours.host))
        assert adapters[-1] == (vars(Flask.create_url_adapter(app, theirs)), theirs.host)
    assert len(app._bound) == 1
