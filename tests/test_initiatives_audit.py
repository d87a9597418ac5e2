"""`commons audit` covers initiatives: their entries are re-derived from the chain, so a forged one is found."""

from api.audit_source import CacheSource
from governance.audit import audit
from governance.initiatives import Initiatives
from tests.cache_support import forge_entry, indexer_for
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
    # Support claimed for someone who gave none.
    forge_entry(cache_url, "SupportPosted", {"supporter": founders[5].address}, newest=False)
    findings = audit(commons.w3, anvil_url, commons.manifest, CacheSource(cache_url)).findings
    assert any(f.area == "decision log" and "SupportPosted" in f.what for f in findings), findings
