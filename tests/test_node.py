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
