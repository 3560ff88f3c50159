"""A 400 to a request whose header value holds a byte HTTP forbids (Schemathesis' negative data
sometimes sends one) is the HTTP layer refusing it, as any real server does: the kit counts it
and says so, never as a contract failure. A 400 to a well-formed request stays a failure."""
from __future__ import annotations

from types import SimpleNamespace as NS

from mock_server.contract_kit.redact import Redactor
from mock_server.contract_kit.report import Report

LABEL = "GET /discounts/code/{code}"


def recorder(headers: dict, status: int):
    operation = NS(label=LABEL, definition=NS(raw={"operationId": "get_discount_by_code_handler"}))
    node = NS(value=NS(operation=operation), transition=None, is_transition_applied=False)
    request = NS(method="GET", uri="http://127.0.0.1:1/dodo/discounts/code/X", body=None,
                 headers=headers)
    interaction = NS(request=request, response=NS(status_code=status,
                                                  content=b'{"code": "BAD",\n "message": "no"}'))
    failure = NS(case_id="c1", title="Undocumented status code", instance_path=None,
                 message=f"Received: {status}\nDocumented: 200, 404, 422, 500, 401")
    check = NS(name="status_code_conformance", failure_info=NS(failure=failure))
    return NS(label=LABEL, cases={"c1": node}, interactions={"c1": interaction},
              checks={"c1": [check]})


def report() -> Report:
    return Report("dodo", "http://127.0.0.1:1/dodo", "test", "fixture", Redactor())


def test_a_refused_malformed_header_is_counted_and_explained_not_failed():
    for bad in ("W-\x7f", "a\x01b", "\x00"):
        made = report()
        made.add_recorder(recorder({"F9~Fa": [bad]}, 400), {})
        assert made.failures == {} and made.malformed_refused == 1, repr(bad)
        assert "malformed requests: 1 answers were 400" in made.render()


def test_a_refused_header_name_that_is_no_token_is_counted_too():
    for bad in ("F9~Fa\x7f", "F9 Fa", "F9:Fa", "Caf\u00e9"):
        made = report()
        made.add_recorder(recorder({bad: ["W-"]}, 400), {})
        assert made.failures == {} and made.malformed_refused == 1, repr(bad)


def test_a_400_to_a_well_formed_request_is_a_failure():
    for good in ("W-", "tab\there", "caf\u00e9"):
        made = report()
        made.add_recorder(recorder({"F9~Fa": [good]}, 400), {})
        assert len(made.failures) == 1 and made.malformed_refused == 0, repr(good)
        text = made.render()
        assert 'answered: {"code": "BAD", "message": "no"}' in text  # what the server said
        assert ("F9~Fa: " + good.replace("\t", "\\x09")) in text  # the header, reproducible
    made = report()
    made.add_recorder(recorder({"F9~Fa": ["W-\x7f"]}, 500), {})  # not a refusal: a failure
    assert len(made.failures) == 1
    assert "-H $'F9~Fa: W-\\x7f'" in made.render()  # the invisible byte, written out
