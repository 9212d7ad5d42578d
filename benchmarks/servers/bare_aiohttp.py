"""The ceiling of the aiohttp stack: a bare aiohttp ``WebSocketResponse``
echo on the same server (``web.run_app`` on uvloop when it is installed),
no Engine.IO.

Like bare_asgi.py it greets each WebSocket with a fixed Engine.IO open
packet, so the load generator drives it exactly as it drives the Engine.IO
servers, then echoes every frame back unchanged.

Plain HTTP requests get the same bare long-polling echo as bare_asgi.py
(the ceiling of the polling figure): a GET without a sid is the handshake,
a POST queues its message packets for the sid and answers ``ok``, a GET
returns the queued packets or waits for some.  A dict of sid -> pending
packets and the waiting GET, nothing more.

    python bare_aiohttp.py --port 8000
"""
import argparse
import asyncio
import sys

import aiohttp
from aiohttp import web
from bare_polling import answer

try:
    import uvloop
except ImportError:  # pragma: no cover - the benchmark venvs have it
    uvloop = None

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--no-uvloop', action='store_true',
                    help="aiohttp on asyncio's own event loop")
parser.add_argument('--reuse-port', action='store_true',
                    help='SO_REUSEPORT: several processes of this script listen '
                         'on one port and the kernel spreads the connections '
                         '(the multiproc figure)')
args = parser.parse_args()


OPEN = ('0{"sid":"bare","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')
TEXT = aiohttp.WSMsgType.TEXT
BINARY = aiohttp.WSMsgType.BINARY


async def polling(request):
    status, text = await answer(request.method, request.query.get('sid'),
                                request.text)
    return web.Response(status=status, text=text)


async def handler(request):
    ws = web.WebSocketResponse()
    if not ws.can_prepare(request).ok:
        return await polling(request)
    await ws.prepare(request)
    await ws.send_str(OPEN)
    async for msg in ws:
        if msg.type == TEXT:
            await ws.send_str(msg.data)
        elif msg.type == BINARY:
            await ws.send_bytes(msg.data)
    return ws


app = web.Application()
app.router.add_route('GET', '/{tail:.*}', handler)
app.router.add_route('POST', '/{tail:.*}', polling)

use_uvloop = uvloop is not None and not args.no_uvloop
loop = uvloop.new_event_loop() if use_uvloop else asyncio.new_event_loop()
asyncio.set_event_loop(loop)
print(f'bare aiohttp echo (WebSocket and long-polling); aiohttp {aiohttp.__version__} on '
      f'{"uvloop " + uvloop.__version__ if use_uvloop else "asyncio"}',
      file=sys.stderr, flush=True)
web.run_app(app, host='127.0.0.1', port=args.port, access_log=None,
            print=None, backlog=4096, loop=loop,
            reuse_port=args.reuse_port or None)
