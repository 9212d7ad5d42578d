"""What an open WebSocket session keeps alive: not its request's environ
(unless the application keeps it), nor its open packet."""
from __future__ import annotations

import gc
from typing import Any

import engineio

WS = 'EIO=4&transport=websocket'


def live_environs() -> list[dict[str, Any]]:
    gc.collect()
    return [o for o in gc.get_objects()
            if type(o) is dict and 'engineio.request' in o]


def test_open_websocket_sessions_let_go_of_their_environ(asgi):
    async def main():
        eio = engineio.AsyncServer(async_mode='asgi')
        kept: list[dict[str, Any]] = []
        seen: list[str] = []

        @eio.on('connect')
        def connect(sid: str, environ: dict[str, Any]) -> None:
            seen.append(environ['QUERY_STRING'])
            if 'keep=1' in environ['QUERY_STRING']:
                kept.append(environ)

        @eio.on('message')
        async def message(sid: str, data: str) -> None:
            await eio.send(sid, data)

        app = engineio.ASGIApp(eio)
        peers = [asgi.WSPeer(app, query=WS), asgi.WSPeer(app, query=WS),
                 asgi.WSPeer(app, query=WS + '&keep=1')]
        for peer in peers:
            assert (await peer.recv()).startswith('0{"sid":')
        assert len(seen) == 3
        # Only the environ the application kept is still alive.
        environs = live_environs()
        assert len(environs) == 1 and environs[0] is kept[0]
        # The sessions still work.
        for peer in peers:
            peer.send('4hi')
            assert await peer.recv() == '4hi'
            peer.disconnect()
            await peer.finish()
        await eio.shutdown()
    asgi.run(main())
