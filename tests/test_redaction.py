"""Provider keys never reach a message: every way a node's URL can be written into text is cut to scheme and host
(governance/redaction.py)."""

import json
from urllib.parse import quote

import pytest

from governance.redaction import redact, redact_url

KEY = "k3Y_s3cr3t-0123456789abcdef"
ALCHEMY = f"https://eth-mainnet.g.alchemy.com/v2/{KEY}"
JSON_SLASH, UNICODE_SLASH = "\\/", "\\u002f"


@pytest.mark.parametrize(
    "url, kept",
    [
        (ALCHEMY, "https://eth-mainnet.g.alchemy.com"),
        (f"https://user:{KEY}@rpc.example.org:8545/", "https://rpc.example.org:8545"),
        (f"https://rpc.example.org/?apikey={KEY}", "https://rpc.example.org"),
        (f"https://rpc.example.org/v1/mainnet?apikey={KEY}&chain=1#{KEY}", "https://rpc.example.org"),
        (f"wss://{KEY}:x@ws.example.org/ws/{KEY}", "wss://ws.example.org"),
        (f"http://[::1]:8545/{KEY}", "http://[::1]:8545"),
        (f"https://user:p(a)ss{KEY}@rpc.example.org/", "https://rpc.example.org"),
    ],
)
def test_a_plain_url_keeps_only_scheme_and_host(url, kept):
    assert redact_url(url) == kept
    said = redact(f"the node at {url} did not answer")
    assert said == f"the node at {kept} did not answer"


def test_a_json_escaped_url_is_cut_and_stays_escaped():
    body = json.dumps({"error": f"cannot reach {ALCHEMY}", "url": ALCHEMY}).replace("/", "\\/")
    assert "https:\\/\\/eth-mainnet" in body
    said = redact(body)
    assert KEY not in said
    assert json.loads(said) == {
        "error": "cannot reach https://eth-mainnet.g.alchemy.com",
        "url": "https://eth-mainnet.g.alchemy.com",
    }


def test_a_doubly_escaped_url_inside_a_json_string_is_cut():
    inner = json.dumps({"url": ALCHEMY.replace("/", "\\/")})  # JSON inside JSON: 'https:\\/\\/…'
    said = redact(json.dumps({"log": inner}))
    assert KEY not in said and json.loads(json.loads(said)["log"]) == {"url": "https:\\/\\/eth-mainnet.g.alchemy.com"}


def test_a_url_escaped_as_unicode_is_cut():
    escaped = ALCHEMY.replace("/", UNICODE_SLASH)
    said = redact('{"url": "' + escaped + '"}')
    assert KEY not in said and json.loads(said) == {"url": "https://eth-mainnet.g.alchemy.com"}


def test_an_escaped_url_before_an_escaped_quote_gives_the_quote_back():
    escaped = ALCHEMY.replace("/", JSON_SLASH)
    said = redact('{"message": "at \\"' + escaped + '\\": refused"}')
    assert KEY not in said and json.loads(said) == {"message": 'at "https://eth-mainnet.g.alchemy.com": refused'}


@pytest.mark.parametrize("url", [ALCHEMY, f"https://user:{KEY}@rpc.example.org/x", f"https://rpc.example.org/?apikey={KEY}&b=2"])
def test_a_percent_encoded_url_is_cut_and_stays_encoded(url):
    host = redact_url(url)
    said = redact(f"GET /proxy?target={quote(url, safe='')} failed")
    assert KEY not in said and said == f"GET /proxy?target={quote(host, safe='')} failed"
    lower = redact(f"target={quote(url, safe='').lower()}")
    assert KEY.lower() not in lower.lower()


def test_a_twice_percent_encoded_url_is_cut():
    twice = quote(quote(ALCHEMY, safe=""), safe="")
    said = redact(f"redirect={twice}")
    assert KEY not in said and said == "redirect=" + quote(quote("https://eth-mainnet.g.alchemy.com", safe=""), safe="")


@pytest.mark.parametrize(
    "sentence, said",
    [
        (f"(at {ALCHEMY}).", "(at https://eth-mainnet.g.alchemy.com)."),
        (f"['{ALCHEMY}']", "['https://eth-mainnet.g.alchemy.com']"),
        (f"[{ALCHEMY}]", "[https://eth-mainnet.g.alchemy.com]"),
        (f"see {ALCHEMY}, then retry", "see https://eth-mainnet.g.alchemy.com, then retry"),
        (f"<{ALCHEMY}>", "<https://eth-mainnet.g.alchemy.com>"),
    ],
)
def test_the_sentence_around_a_url_is_kept(sentence, said):
    assert redact(sentence) == said


def test_a_bare_request_path_is_removed():
    said = redact(f"HTTPSConnectionPool(host='eth-mainnet.g.alchemy.com', port=443): Max retries exceeded with url: /v2/{KEY}")
    assert KEY not in said and said.endswith("with url: /…")


def test_text_without_a_url_is_unchanged():
    text = "quorum: 2 of 3 (For + Abstain); 50% of members; ratio 3:1 // done"
    assert redact(text) == text
