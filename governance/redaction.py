"""URLs cut to scheme and host before they reach a message or a log: a node's URL may carry a provider key
(in its path, its query or its user part), and messages travel to API clients and log files.

A URL is found however it was written into the text: plain (`https://host/v2/KEY`), JSON-escaped
(`https:\\/\\/host\\/v2\\/KEY`, or with `\\u002f`), or percent-encoded once or twice (`https%3A%2F%2Fhost%2Fv2%2FKEY`,
as in another URL's query); what is left of it is written back the same way.
"""

import re
from urllib.parse import quote, unquote, urlsplit

# A scheme, then '://' as written: plain, JSON-escaped (any number of backslashes, or \u002f), or percent-encoded.
SEPARATOR = r"(?P<sep>:(?:\\*/|\\u002[fF]){2}|%3[aA](?:%2[fF]){2}|%253[aA](?:%252[fF]){2})"
# Everything up to a space, a quote or an angle bracket belongs to the URL (brackets and parentheses may be part of
# it, as in http://[::1]:8545 or a password); what ends it as a sentence does is given back (_split_tail).
URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*" + SEPARATOR + r"[^\s'\"`<>]+")
# requests and urllib3 name the path on its own: "Max retries exceeded with url: /v3/<key> (Caused by …)".
BARE_PATH = re.compile(r"(\burl: )(/\S*)")
JSON_SLASH = re.compile(r"\\+/|\\u002[fF]")
CLOSING = {")": "(", "]": "["}


def redact_url(url: str) -> str:
    """`url` as scheme://host[:port], with no user, path, query or fragment; "" for an empty URL, "<url>" if unreadable."""
    if not url:
        return ""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return "<url>"
    if not parts.scheme or not host:
        return "<url>"
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _split_tail(url: str) -> tuple[str, str]:
    """(the URL, what follows it in the sentence): trailing punctuation, a closing bracket it did not open, and the
    backslash of an escaped quote."""
    end = len(url)
    while end:
        last = url[end - 1]
        if last in ".,;:!?\\":
            end -= 1
        elif last in CLOSING and url[:end].count(last) > url[:end].count(CLOSING[last]):
            end -= 1
        else:
            break
    return url[:end], url[end:]


def _redact_match(match: re.Match) -> str:
    url, tail = _split_tail(match.group(0))
    separator = match.group("sep")
    if separator == "://":
        return redact_url(url) + tail
    if separator.startswith("%25"):
        return quote(quote(redact_url(unquote(unquote(url))), safe=""), safe="") + tail
    if separator.startswith("%"):
        return quote(redact_url(unquote(url)), safe="") + tail
    slash = JSON_SLASH.search(separator).group(0)  # type: ignore[union-attr]  # the separator has one by its pattern
    return redact_url(JSON_SLASH.sub("/", url)).replace("/", slash) + tail


def redact(text: str) -> str:
    """`text` with every URL in it cut to scheme and host, and bare request paths (as requests words them) removed."""
    text = URL.sub(_redact_match, text)
    return BARE_PATH.sub(lambda match: match.group(1) + "/…", text)
