"""The lab's loopback stand-in for mermaid.ink: mermaid-py renders through it with no internet."""
from __future__ import annotations

import base64
import json
import zlib

import pytest
import requests

from helpers import diagrams
from helpers.diagrams import FLOW
from helpers.lab.mermaid_ink import decode_payload

SOURCE = "flowchart LR\n    A --> B\n"


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def test_decode_accepts_mermaid_inks_encodings():
    assert decode_payload(_b64(SOURCE)) == SOURCE
    assert decode_payload(_b64(SOURCE).rstrip("=")) == SOURCE                      # padding optional
    assert decode_payload(base64.b64encode(SOURCE.encode()).decode()) == SOURCE     # standard alphabet
    state = json.dumps({"code": SOURCE, "mermaid": {"theme": "default"}})
    assert decode_payload(_b64(state)) == SOURCE                                    # JSON state
    pako = "pako:" + base64.urlsafe_b64encode(zlib.compress(state.encode())).decode()
    assert decode_payload(pako) == SOURCE


def test_decode_rejects_garbage_with_a_reason():
    with pytest.raises(ValueError, match="base64"):
        decode_payload("not*base64!")


@pytest.fixture(scope="module")
def ink(lab, mmdc) -> str:
    url = json.loads((lab.dir / "endpoints.json").read_text()).get("mermaid_ink")
    assert url, "the lab did not start mermaid_ink although mmdc and chromium are installed (see lab.log)"
    assert url.startswith("http://127.0.0.1:")
    return url


def test_mermaid_py_renders_through_the_lab(ink, lab_settings, monkeypatch):
    import mermaid
    monkeypatch.setenv("MERMAID_INK_SERVER", "https://mermaid.ink")   # the default it must never use
    assert diagrams.use_local_mermaid_ink(lab_settings) == ink
    picture = mermaid.Mermaid(diagrams.show(FLOW, "token-review").mermaid)
    assert picture.svg_response.url.startswith(ink)
    assert 'data-id="token-review"' in picture.svg_response.text
    assert picture.img_response.headers["Content-Type"] == "image/png"
    assert picture.img_response.content.startswith(b"\x89PNG")


def test_bad_payload_is_a_400_naming_the_problem(ink):
    response = requests.get(f"{ink}/svg/not*base64!", timeout=10)
    assert response.status_code == 400 and "base64" in response.text


def test_broken_diagram_is_a_400_with_the_parser_message(ink):
    response = requests.get(f"{ink}/svg/{_b64('flowchart LR' + chr(10) + '  A -->')}", timeout=60)
    assert response.status_code == 400 and "Parse error" in response.text


def test_only_png_images(ink):
    response = requests.get(f"{ink}/img/{_b64(SOURCE)}?type=webp", timeout=10)
    assert response.status_code == 400 and "PNG only" in response.text
