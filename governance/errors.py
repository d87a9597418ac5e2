"""One exception hierarchy for the domain library; user-facing layers turn these into sentences or 4xx."""


class CommonsError(Exception):
    """Anything the commons library reports to its caller, with a message fit for a person."""


class RetryableError(CommonsError):
    """The node timed out, refused or rate-limited: the same call may succeed later."""


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


class RateLimited(RetryableError):
    """Too many ballots from one voter or one client; `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class RelayUnavailable(RetryableError):
    """The relay cannot pay for votes now (its balance is too low, or it is not configured)."""
