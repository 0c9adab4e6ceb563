"""Upload status: a small interface, and the Redis adapter (fakeredis when no ``REDIS_URL``)."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from assets_core.config import get_settings
from assets_core.errors import StoreUnavailable
from assets_core.once import once
from assets_core.ports import StatusStore  # noqa: F401  (re-exported)

STATUS_PREFIX = "UPLOAD_STATUS:"
LOCK_PREFIX = "UPLOAD_LOCK:"
logger = logging.getLogger(__name__)


class RedisStatusStore:
    """Status records as JSON strings under ``UPLOAD_STATUS:<upload_id>``, with a TTL."""

    def __init__(self, client: Any, ttl_seconds: int) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds

    def _run(self, action: Any) -> Any:
        import redis

        try:
            return action()
        except redis.RedisError as exc:
            # The driver's text names the server's address: it goes to the log, not the client.
            logger.exception("The upload status store failed")
            raise StoreUnavailable("The upload status store did not answer; try again.") from exc

    def put(self, upload_id: str, record: dict[str, Any]) -> None:
        """Write an upload's status record, renewing its time to live."""
        payload = json.dumps({"upload_id": upload_id, **record})
        self._run(lambda: self.client.set(STATUS_PREFIX + upload_id, payload, ex=self.ttl_seconds))

    def get(self, upload_id: str) -> dict[str, Any] | None:
        raw = self._run(lambda: self.client.get(STATUS_PREFIX + upload_id))
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        return record

    def lock(self, upload_id: str, seconds: int) -> str | None:
        """Take the upload's processing lock; a token, or None when another run holds it."""
        token = secrets.token_hex(16)
        key = LOCK_PREFIX + upload_id
        taken = self._run(lambda: self.client.set(key, token, nx=True, ex=seconds))
        return token if taken else None

    def renew(self, upload_id: str, token: str, seconds: int) -> bool:
        """Extend the lock by ``seconds`` if this token still holds it; False when it does
        not (it expired, and another run may have taken it)."""
        key = LOCK_PREFIX + upload_id

        def extend() -> bool:
            import redis

            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    if pipe.get(key) != token:
                        return False
                    pipe.multi()
                    pipe.expire(key, seconds)
                    pipe.execute()
                    return True
                except redis.WatchError:
                    return False

        renewed: bool = self._run(extend)
        return renewed

    def unlock(self, upload_id: str, token: str) -> None:
        """Release the lock if this token still holds it (WATCH/MULTI, no server scripts)."""
        key = LOCK_PREFIX + upload_id

        def release() -> None:
            import redis

            with self.client.pipeline() as pipe:
                try:
                    pipe.watch(key)
                    if pipe.get(key) == token:
                        pipe.multi()
                        pipe.delete(key)
                        pipe.execute()
                except redis.WatchError:
                    pass

        self._run(release)


@once
def status_store() -> RedisStatusStore:
    """The process's status store: ``REDIS_URL``, else in-process fakeredis."""
    # redis imports its asyncio client eagerly (a large import): only the routes and the
    # function that keep upload status load it, when they first need it.
    import redis

    settings = get_settings()
    ttl = settings.upload_status_ttl_days * 24 * 3600
    if settings.redis_url:
        client = redis.Redis.from_url(
            settings.redis_url, socket_connect_timeout=5, socket_timeout=10, decode_responses=True
        )
    else:
        import fakeredis  # only in the local stack and tests; never shipped to Lambda

        client = fakeredis.FakeRedis(decode_responses=True)
    return RedisStatusStore(client, ttl)
