"""The trace of one sync, built from kube-apiserver audit records (synthetic here, in the format the
real server writes; tests/contract/test_eso_real.py reads the real ones)."""
import json

from helpers import eso_trace

ESO = "system:serviceaccount:external-secrets:external-secrets"


def _event(uri_ref: dict, user: str, start: str, end: str, *, verb="create", code=201, body=None, agent="eso-controller/v0"):
    event = {"kind": "Event", "stage": "ResponseComplete", "verb": verb, "user": {"username": user},
             "userAgent": agent, "objectRef": uri_ref, "responseStatus": {"code": code},
             "requestReceivedTimestamp": start, "stageTimestamp": end}
    if body:
        event["requestObject"] = body
    return json.dumps(event)


def test_apiserver_records_become_calls_with_latency(tmp_path):
    log = tmp_path / "audit.log"
    log.write_text("\n".join([
        _event({"resource": "serviceaccounts", "subresource": "token", "namespace": "app", "name": "sa"}, ESO,
               "2026-12-01T10:00:00.000000Z", "2026-12-01T10:00:00.004000Z",
               body={"spec": {"audiences": ["akeyless"], "expirationSeconds": 600}}),
        _event({"resource": "tokenreviews", "apiGroup": "authentication.k8s.io"},
               "system:serviceaccount:gw:reviewer", "2026-12-01T10:00:00.010000Z", "2026-12-01T10:00:00.011500Z",
               agent="aiohttp"),
        _event({"resource": "secrets", "namespace": "app", "name": "target"}, ESO,
               "2026-12-01T10:00:00.020000Z", "2026-12-01T10:00:00.023000Z", verb="update", code=200),
        _event({"resource": "secrets", "namespace": "elsewhere", "name": "x"}, ESO,
               "2026-12-01T10:00:00.030000Z", "2026-12-01T10:00:00.031000Z", verb="update", code=200),
        '{"torn line',
    ]))
    calls = eso_trace.apiserver_calls(log, namespace="app")
    assert [(c.source, c.target) for c in calls] == [("ESO", "API"), ("GW", "API"), ("ESO", "API")]
    assert calls[0].label == "TokenRequest app/sa aud=akeyless 600 s"
    assert round(calls[0].latency_ms, 1) == 4.0 and round(calls[1].latency_ms, 1) == 1.5
    assert calls[1].label == "TokenReview as reviewer"
    assert calls[2].label == "update secret app/target"


def test_the_sequence_diagram_has_one_arrow_and_one_answer_per_call(tmp_path):
    calls = [eso_trace.Call(100.0, "ESO", "API", "TokenRequest a/b", 3.0, 201, "eso"),
             eso_trace.Call(100.012, "ESO", "GW", "/auth p-1; #x", 4.5, 401, "", "denied: nope")]
    trace = eso_trace.Trace.merge(calls[1:], calls[:1])
    text = trace.mermaid()
    assert text.splitlines()[:4] == ["sequenceDiagram", "    participant ESO as ESO controller",
                                     "    participant API as kube-apiserver", "    participant GW as Akeyless gateway"]
    assert "    ESO->>API: TokenRequest a/b (+0 ms)" in text
    assert "    ESO->>GW: /auth p-1, x (+12 ms)" in text          # no statement separator, no comment start
    assert "    GW-->>ESO: 401 in 4.5 ms denied: nope" in text
    assert trace.user_agents("GW") == {""} and trace.summary().startswith("2 calls in 12 ms")
    assert trace.diagram().kind == "sequence"


def test_an_empty_window_says_so():
    trace = eso_trace.Trace.merge([])
    assert not trace.ok and "no call recorded" in trace.summary() and "no call recorded" in trace.mermaid()
