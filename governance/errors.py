"""One exception hierarchy for the domain library; user-facing layers turn these into sentences or 4xx."""

import re

# Nodes word "your range is too big" in many ways; these cover geth, erigon, anvil, Alchemy, Infura, QuickNode.
TOO_MANY_RESULTS = re.compile(
    r"too many|more than \d+ (results|logs)|range|limit|exceed|too large|response size|blocks distance", re.I
)


class CommonsError(Exception):
    """Anything the commons library reports to its caller, with a message fit for a person."""


class RetryableError(CommonsError):
    """The node timed out, refused or rate-limited: the same call may succeed later."""


class NodeRateLimited(RetryableError):
    """The node answered HTTP 429 (or its JSON-RPC twin); `retry_after` is in seconds when it said (Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ConfigurationError(CommonsError):
    """Missing manifest, key or setting: the user must change something before retrying."""


class InvalidInput(CommonsError):
    """A malformed address, unknown proposal, missing file: nothing was sent."""


class CompileError(CommonsError):
    """The Solidity sources did not compile."""


class NodeError(CommonsError):
    """The local chain node could not be started or stopped."""


class Reverted(CommonsError):
    """The chain refused a transaction; `reason` is a sentence, `name`/`args` the decoded custom error."""

    def __init__(self, reason: str, name: str | None = None, args: tuple = ()):
        super().__init__(reason)
        self.reason = reason
        self.name = name
        self.error_args = args


class BallotRefused(CommonsError):
    """A signed ballot the relay will not submit; `code` says which check failed (nothing was sent)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class RpcError(CommonsError):
    """The node answered a call with a JSON-RPC error (not retryable as it stands)."""

    def __init__(self, method: str, code: int, message: str):
        super().__init__(f"The node refused {method}: {message} (code {code}).")
        self.code = code
        self.node_message = message

    @property
    def too_many_results(self) -> bool:
        """Whether the node asks for a smaller block range."""
        return bool(TOO_MANY_RESULTS.search(self.node_message))


class RateLimited(RetryableError):
    """Too many ballots from one voter or one client; `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RelayUnavailable(RetryableError):
    """The relay cannot pay for votes now (its balance is too low, or it is not configured)."""
