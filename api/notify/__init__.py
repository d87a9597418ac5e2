"""Telling members what is coming, derived from the cache like every other answer.

- reads.py     what the calendars and feeds need of the cache (reads only)
- words.py     decision-log entries as sentences (the page's words, in Python), for feeds and webhooks
- atom.py      Atom (RFC 4287) feeds: entries in, XML out, ids stable URNs of chain facts
"""
