"""A Python client and the ``assets`` command for the Assets Registry's services."""

from assets_client.api import ApiError, AssetsClient, NetworkError

__all__ = ["ApiError", "AssetsClient", "NetworkError"]
