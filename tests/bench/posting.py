"""A load generator's HTTP client: POSTs over a fixed set of keep-alive connections, and little else.

httpx spends about a millisecond of CPU per request, and its pool scans every waiting request on each release:
open-loop at 200 requests/s the bench process itself saturated a core and the backlog grew without end, so the
bench measured its own client (54 events/s, p50 27 s). This client writes a request and reads the status line,
the headers and a Content-Length body; nothing else (no redirects, no chunked bodies, no TLS) is needed here.
"""

import asyncio
from urllib.parse import urlsplit


class PostPool:
    def __init__(self, url: str, connections: int) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.connections = connections
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        """Idle connections; None stands for one that broke and is opened again when next taken."""
        self._opened: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> "PostPool":
        for _ in range(self.connections):
            self._idle.put_nowait(await self._open())
        return self

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self._opened.append(writer)
        return reader, writer

    async def __aexit__(self, *_: object) -> None:
        for writer in self._opened:
            writer.close()

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Waits for an idle connection, then sends; returns the status and the body."""
        connection = await self._idle.get()
        try:
            reader, writer = connection or await self._open()
            connection = (reader, writer)
            lines = [f"POST {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in headers.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            answer = await reader.readexactly(length)
        except BaseException:
            if connection is not None:
                connection[1].close()
            connection = None
            raise
        finally:
            self._idle.put_nowait(connection)
        return int(status_line.split()[1]), answer
