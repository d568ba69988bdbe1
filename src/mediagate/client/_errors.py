"""The SDK's exceptions, one per failure kind, so callers catch what they can handle::

MediagateError
├── APIConnectionError          the server could not be reached (after retries)
│   └── APITimeoutError         no answer within the timeout
├── APIStatusError              the server answered 4xx/5xx; .status, .param, .code, .body
│   ├── ValidationError         400/422: a field is wrong; .param names it
│   ├── AuthenticationError     401/403: missing, unknown or revoked key
│   ├── InsufficientBalanceError 402: the account cannot pay for the task
│   ├── NotFoundError           404: no such task for this key
│   ├── ConflictError           409: Idempotency-Key reused with another request
│   ├── RateLimitError          429: slow down; .retry_after in seconds
│   └── ServerError             5xx (after retries)
├── TaskFailedError             the task ended failed or cancelled; .task.error says why
└── TaskTimeoutError            wait() gave up before the task finished
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediagate.client._types import Task


class MediagateError(Exception):
    """Base of every exception the SDK raises."""


class APIConnectionError(MediagateError):
    pass


class APITimeoutError(APIConnectionError):
    pass


class APIStatusError(MediagateError):
    def __init__(
        self,
        message: str,
        status: int,
        *,
        param: str | None = None,
        code: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.message = message
        self.status = status
        self.param = param
        self.code = code
        self.body = body
        self.retry_after = retry_after


class ValidationError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class InsufficientBalanceError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class ServerError(APIStatusError):
    pass


class TaskFailedError(MediagateError):
    def __init__(self, task: Task) -> None:
        reason = task.error or "no reason given"
        code = f" [{task.error_code}]" if task.error_code else ""
        super().__init__(f"task {task.id} {task.status}{code}: {reason}")
        self.task = task


class TaskTimeoutError(MediagateError):
    def __init__(self, task: Task, waited_s: float) -> None:
        super().__init__(f"task {task.id} is still {task.status} after {waited_s:.0f} s")
        self.task = task


def error_for_status(
    status: int,
    message: str,
    *,
    param: str | None,
    code: str | None,
    body: Any,
    retry_after: float | None,
) -> APIStatusError:
    cls: type[APIStatusError]
    if status in (400, 422):
        cls = ValidationError
    elif status in (401, 403):
        cls = AuthenticationError
    elif status == 402:
        cls = InsufficientBalanceError
    elif status == 404:
        cls = NotFoundError
    elif status == 409:
        cls = ConflictError
    elif status == 429:
        cls = RateLimitError
    elif status >= 500:
        cls = ServerError
    else:
        cls = APIStatusError
    return cls(message, status, param=param, code=code, body=body, retry_after=retry_after)
