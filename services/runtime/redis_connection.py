"""The one place that opens a Redis client, so that every Redis the services use is reached the same way."""

from redis.asyncio import Redis


def connect_redis(url: str, timeout_seconds: float) -> "Redis":
    """A client that fails fast: callers turn a slow or absent Redis into their own unavailability, not a hang."""
    return Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry_on_timeout=False,
    )
