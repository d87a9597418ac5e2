"""Signed webhooks (Standard Webhooks 1.0) of the decision log, for stewards' bots and chat bridges.

- tables.py    endpoints, the outbox of chain events, deliveries and the log of attempts (cache database)
- signing.py   the ed25519 key (setting or key file), `v1a,` signatures over id.timestamp.body
- targets.py   which URLs may be called, and a POST pinned to the address that was checked
- outbox.py    decision-log entries → events with ids fixed by the chain; `….reverted` after a reorg
- delivery.py  claiming due deliveries (once across processes), sending, back-off, 410, replay; the worker thread
- endpoints.py adding, listing and removing endpoints, and the delivery log (for `commons hooks`)
"""
