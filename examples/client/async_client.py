"""An asyncio Engine.IO client: connect, send a few messages, print the
replies, disconnect.

Usage::

    python async_client.py http://127.0.0.1:5000 [--transport websocket]

Any Engine.IO v4 server that echoes messages will do, for example the one
in ``tests/js/server.js`` (``node tests/js/server.js --port 5000``).
"""
from __future__ import annotations

import argparse
import asyncio
from typing import Any

import engineio

MESSAGES: list[Any] = ['hello', b'\x00\x01 some bytes', {'json': [1, 2, 3]}]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('url')
    parser.add_argument('--transport', choices=['polling', 'websocket'],
                        help='use only this transport')
    parser.add_argument('--timeout', type=float, default=5.0,
                        help='seconds to wait for the replies')
    args = parser.parse_args()

    eio = engineio.AsyncClient()
    replies: list[Any] = []
    all_replies = asyncio.Event()

    @eio.on('connect')
    async def on_connect() -> None:
        print(f'connected, sid={eio.sid}')

    @eio.on('message')
    async def on_message(data: Any) -> None:
        print(f'reply: {data!r}')
        replies.append(data)
        if len(replies) == len(MESSAGES):
            all_replies.set()

    @eio.on('disconnect')
    async def on_disconnect(reason: str) -> None:
        print(f'disconnected ({reason})')
        all_replies.set()  # stop waiting if the server went away

    await eio.connect(args.url,
                      transports=[args.transport] if args.transport else None)
    print(f'transport: {eio.transport()}')
    for message in MESSAGES:
        print(f'sending: {message!r}')
        await eio.send(message)
    try:
        await asyncio.wait_for(all_replies.wait(), args.timeout)
    except asyncio.TimeoutError:
        pass
    await eio.disconnect()
    return 0 if len(replies) == len(MESSAGES) else 1


if __name__ == '__main__':
    raise SystemExit(asyncio.run(main()))
