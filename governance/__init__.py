"""Commons Ledger's domain library: it knows the chain (compile, deploy, act, index, audit), not HTTP."""
