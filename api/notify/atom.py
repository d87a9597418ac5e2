"""Atom feeds (RFC 4287): the decision log in words (the commons', or everything by or about one member), and the
proposals that need a vote now. Pure: entries in, XML bytes out; ids are stable URNs of chain facts."""

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree as ET

ATOM = "http://www.w3.org/2005/Atom"
# XML 1.0 cannot carry these even escaped; text from the chain may hold any of them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
ID_NAMESPACE = uuid.UUID("6f0d3b5e-5c1e-4e38-9a3b-0c55e1d0a7c1")  # Commons Ledger's: ids are uuid5 of chain facts


@dataclass(frozen=True)
class FeedEntry:
    """One entry: `key` names the chain fact it is (the same fact, the same id); times are unix seconds."""

    key: str
    title: str
    updated: int
    link: str
    text: str


def stable_id(key: str) -> str:
    """urn:uuid: of `key` (e.g. 'chain:governor:block hash:log index'): the same on every request and every replica."""
    return f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, key)}"


def _time(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = NOT_XML.sub("\ufffd", text)
    return element


def atom_feed(key: str, title: str, self_link: str, page_link: str, updated: int, entries: list[FeedEntry]) -> bytes:
    """The feed `key` (its id is stable_id(key)) with `entries` newest first; `updated` is the newest change's time."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _add(feed, "id", stable_id(key))
    _add(feed, "title", title)
    _add(feed, "updated", _time(updated))
    _add(feed, "link", rel="self", href=self_link, type="application/atom+xml")
    _add(feed, "link", rel="alternate", href=page_link, type="text/html")
    _add(_add(feed, "author"), "name", "Commons Ledger (read from the chain)")
    _add(feed, "generator", "Commons Ledger")
    for item in entries:
        entry = _add(feed, "entry")
        _add(entry, "id", stable_id(item.key))
        _add(entry, "title", item.title, type="text")
        _add(entry, "updated", _time(item.updated))
        _add(entry, "link", rel="alternate", href=item.link, type="text/html")
        _add(entry, "content", item.text, type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
