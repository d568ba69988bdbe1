"""The Python SDK for mediagate (and gptunnel itself), on httpx2; it imports nothing of the
server, so ``pip install mediagate`` users can use it alone::

    from mediagate.client import Client

    with Client("http://127.0.0.1:8000", "mg_test_...") as mg:
        result = mg.generate("seedream-3", "a red fox in snow", ar="16:9", output="fox.webp")
        print(result.files[0], result.task.url)

``AsyncClient`` has the same methods, awaited. Errors are in ``mediagate.client._errors``'s
tree, re-exported here.
"""

from mediagate.client._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConflictError,
    InsufficientBalanceError,
    MediagateError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    TaskTimeoutError,
    ValidationError,
)
from mediagate.client._types import Generation, Model, Task, TaskPage
from mediagate.client.async_ import AsyncClient
from mediagate.client.sync import Client
from mediagate.client.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "Generation",
    "InsufficientBalanceError",
    "MediagateError",
    "Model",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "Task",
    "TaskFailedError",
    "TaskPage",
    "TaskTimeoutError",
    "ValidationError",
    "WebhookVerificationError",
    "verify_webhook",
]
