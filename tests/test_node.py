"""The local node keeps the chain across a restart: state, logs and the clock."""

from governance.chain import NodeSigner, connect, transact
from governance.node import LocalNode
from tests.helpers import free_port


def test_restart_keeps_balances_logs_and_a_clock_that_never_goes_back(tmp_path):
    state = tmp_path / "anvil-state.json"
    node = LocalNode(free_port(), state)
    w3 = connect(node.start())
    sender = NodeSigner(w3.eth.accounts[1])
    receipt = transact(w3, sender, w3.eth.accounts[2], b"", 12345)
    w3.provider.make_request("evm_increaseTime", [10 * 86400])
    w3.provider.make_request("evm_mine", [])
    last = w3.eth.get_block("latest")
    node.stop()

    restarted = LocalNode(node.port, state)
    w3 = connect(restarted.start())
    try:
        assert w3.eth.block_number == last["number"]
        assert w3.eth.get_transaction_receipt(receipt["transactionHash"])["status"] == 1
        w3.provider.make_request("evm_mine", [])
        assert w3.eth.get_block("latest")["timestamp"] >= last["timestamp"]
    finally:
        restarted.stop()


def test_start_refuses_a_port_that_is_taken(anvil_url):
    import pytest

    from governance.errors import NodeError

    port = int(anvil_url.rsplit(":", 1)[1])
    with pytest.raises(NodeError, match="already answers"):
        LocalNode(port, None).start()


def test_older_state_kept_on_disk_is_bounded_and_removed_on_stop():
    """anvil would otherwise write about a state file per block for ever (a full test run wrote gigabytes)."""
    from governance.node import PERSISTED_STATES

    node = LocalNode(free_port(), None)
    w3 = connect(node.start())
    try:
        sender = NodeSigner(w3.eth.accounts[1])
        for _ in range(PERSISTED_STATES + 300):
            transact(w3, sender, w3.eth.accounts[2], b"", 1)
        kept = [path for path in node.history_dir.rglob("*") if path.is_file()]
        assert 0 < len(kept) <= PERSISTED_STATES
        assert w3.eth.get_balance(w3.eth.accounts[2], w3.eth.block_number - 5) > 0  # recent state still answers
    finally:
        node.stop()
    assert not node.history_dir.exists()
