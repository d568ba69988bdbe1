"""The Python client for mediagate (and gptunnel itself), on httpx2; no server imports."""

from mediagate.client.gptunnel import (
    APIError,
    AuthenticationError,
    Client,
    MediaTask,
    NotFoundError,
    TaskFailedError,
    ValidationError,
)

__all__ = [
    "APIError",
    "AuthenticationError",
    "Client",
    "MediaTask",
    "NotFoundError",
    "TaskFailedError",
    "ValidationError",
]
