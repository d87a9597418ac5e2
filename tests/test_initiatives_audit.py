"""`commons audit` covers initiatives: their entries are re-derived from the chain, so a forged one is found."""

import json

import sqlalchemy as sa

from api.audit_source import CacheSource
from api.db import make_engine
from governance.audit import audit
from governance.decision_log import entry_hash
from governance.initiatives import Initiatives
from tests.cache_support import indexer_for
from tests.test_initiatives import draft, submit, support


def test_initiatives_pass_the_audit_and_a_forged_supporter_is_found(commons, founders, anvil_url, cache_url):
    initiatives = Initiatives(commons)
    initiative_id = draft(initiatives, founders[2])
    support(initiatives, initiative_id, founders[3])
    support(initiatives, initiative_id, founders[4])
    submit(initiatives, initiative_id)
    indexer_for(commons.manifest, anvil_url, cache_url).sync()
    report = audit(commons.w3, anvil_url, commons.manifest, CacheSource(cache_url))
    assert report.ok, report.findings
    with make_engine(cache_url).begin() as conn:
        row = (
            conn.execute(sa.text("SELECT * FROM decision_entry WHERE kind = 'SupportPosted' ORDER BY seq LIMIT 1"))
            .mappings()
            .one()
        )
        data = json.loads(row["data"]) | {"supporter": founders[5].address}  # support claimed for someone who gave none
        body = {
            k: row[k]
            for k in (
                "seq",
                "block_number",
                "block_hash",
                "tx_hash",
                "log_index",
                "timestamp",
                "contract",
                "kind",
                "subject",
                "prev_hash",
            )
        }
        conn.execute(
            sa.text("UPDATE decision_entry SET data = :data, hash = :hash WHERE seq = :seq"),
            {
                "data": json.dumps(data, sort_keys=True, separators=(",", ":")),
                "hash": entry_hash(body | {"data": data}),
                "seq": row["seq"],
            },
        )
    findings = audit(commons.w3, anvil_url, commons.manifest, CacheSource(cache_url)).findings
    assert any(f.area == "decision log" and "SupportPosted" in f.what for f in findings), findings
