"""A TLS-terminating TCP proxy on 127.0.0.1 with a throwaway self-signed
certificate, to put an HTTPS/WSS front on a plain test server."""
from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path


class TLSProxy:
    """Accept TLS on a free port, forward the plain bytes to ``target``."""

    def __init__(self, target_port: int, certfile: Path,
                 keyfile: Path) -> None:
        self.target_port = target_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(certfile, keyfile)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       daemon=True)
        self.server: asyncio.Server | None = None
        self.port = 0

    def start(self) -> TLSProxy:
        self.thread.start()
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, '127.0.0.1', 0,
                                 ssl=self.context), self.loop).result(5)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(
                '127.0.0.1', self.target_port)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader,
                       dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, ssl.SSLError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self) -> None:
        async def shutdown() -> None:
            assert self.server is not None
            self.server.close()
            tasks = [t for t in asyncio.all_tasks()
                     if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
