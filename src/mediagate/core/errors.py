"""The one error tree of mediagate; API dialects render it, adapters raise it.

::

    MediagateError
    ├── RequestError                 the caller's fault, rendered as a 4xx/503
    │   ├── AuthenticationError      401: missing, unknown or revoked key
    │   ├── InsufficientBalanceError 402: the account cannot pay (balance or spend limit)
    │   ├── PermissionDeniedError    403: the key or account may not do this
    │   ├── NotFoundError            404: unknown task, or another key's task
    │   ├── InvalidRequestError      400: a field is missing or not allowed
    │   │   └── BannedPromptError    400: the prompt has a word the model bans (``word``)
    │   ├── ConflictError            409: an Idempotency-Key reused with another body
    │   ├── TooManyRequestsError     429: over the key's request rate or queue depth
    │   └── NotConfiguredError       503: the deployment cannot serve this yet
    └── ProviderError                an upstream failed; recorded on the task
        ├── ProviderAuthError        upstream rejected our credentials
        ├── RateLimitedError         upstream said slow down (retry_after)
        ├── UpstreamInvalidRequest   upstream refused the parameters
        ├── ContentRejectedError     safety filter refused prompt or output
        ├── UnavailableError         5xx, connection refused, a broken answer
        │   └── ModelNotFoundError   the route's model is unknown or retired upstream, or
        │                            a tool it needs is not installed here
        ├── UpstreamTimeoutError     the upstream did not finish in time
        └── InputError               an input image could not be fetched or read

A ProviderError carries a stable ``code`` (what clients switch on) and says
whether retrying the same route may help (``retryable``) and whether another route
may (``failover``: unavailable, rate-limited, model not found; never a content
rejection or an invalid request).
"""

from __future__ import annotations


class MediagateError(Exception):
    """Base of every error mediagate raises on purpose."""

    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RequestError(MediagateError):
    """The request cannot be served; the caller gets a 4xx (or 503)."""


class AuthenticationError(RequestError):
    code = "unauthorized"


class InsufficientBalanceError(RequestError):
    """``code`` is insufficient_balance, or spend_limit_exceeded for a daily/monthly cap."""

    code = "insufficient_balance"

    def __init__(self, message: str, code: str = "insufficient_balance") -> None:
        super().__init__(message)
        self.code = code


class PermissionDeniedError(RequestError):
    code = "permission_denied"


class NotFoundError(RequestError):
    code = "not_found"


class InvalidRequestError(RequestError):
    """A field is missing, malformed or not allowed; ``param`` names it."""

    code = "invalid_request"

    def __init__(self, param: str, detail: str, allowed: list[str] | None = None) -> None:
        self.param = param
        self.detail = detail
        self.allowed = allowed or []
        super().__init__(self.describe(param))

    def describe(self, param_name: str) -> str:
        """The message with the field named as the caller's dialect names it."""
        text = f"{param_name}: {self.detail}"
        if self.allowed:
            text += f"; allowed: {', '.join(self.allowed)}"
        return text


class BannedPromptError(InvalidRequestError):
    """The prompt holds a word the model (or the deployment) bans; nothing was spent."""

    code = "banned_prompt"

    def __init__(self, word: str) -> None:
        self.word = word
        super().__init__("prompt", f"contains the banned word {word!r}")


class ConflictError(RequestError):
    code = "conflict"


class TooManyRequestsError(RequestError):
    """``retry_after`` says when trying again makes sense (seconds)."""

    code = "rate_limit_exceeded"

    def __init__(self, message: str, retry_after: float, code: str = "rate_limit_exceeded") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.code = code


class NotConfiguredError(RequestError):
    code = "not_configured"


class ProviderError(MediagateError):
    """An upstream (or the sandbox) failed to produce the media."""

    retryable = False
    failover = False


class ProviderAuthError(ProviderError):
    code = "upstream_auth"


class RateLimitedError(ProviderError):
    code = "rate_limited"
    retryable = True
    failover = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamInvalidRequest(ProviderError):
    code = "upstream_invalid_request"


class ContentRejectedError(ProviderError):
    code = "content_rejected"


class UnavailableError(ProviderError):
    code = "upstream_error"
    retryable = True
    failover = True


class ModelNotFoundError(UnavailableError):
    """Retrying the same route cannot help; another route may."""

    code = "model_not_found"
    retryable = False


class UpstreamTimeoutError(ProviderError):
    code = "timeout"


class InputError(ProviderError):
    code = "invalid_input"


PROVIDER_ERRORS: dict[str, type[ProviderError]] = {
    cls.code: cls
    for cls in (
        ProviderAuthError,
        RateLimitedError,
        UpstreamInvalidRequest,
        ContentRejectedError,
        UnavailableError,
        ModelNotFoundError,
        UpstreamTimeoutError,
        InputError,
    )
}
