"""A Python client and the ``assets`` command for the Assets Registry's services.

``Registry`` is the documented API (see the README's "Python SDK"); ``AssetsClient`` is the
lower-level transport the command uses."""

from assets_client.api import (
    ApiError,
    AssetsClient,
    NetworkError,
    UploadFailed,
    VerificationError,
)
from assets_client.pull import PullError, PullResult
from assets_client.push import PushError, PushResult
from assets_client.sdk import Registry

__all__ = [
    "ApiError",
    "AssetsClient",
    "NetworkError",
    "PullError",
    "PullResult",
    "PushError",
    "PushResult",
    "Registry",
    "UploadFailed",
    "VerificationError",
]
