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
import itertools
import sys

import aiohttp
from aiohttp import web

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


SEP = '\x1e'
#: A held GET is answered with a noop after this long, as a real server
#: answers with a ping: nothing waits forever if a client goes away.
POLL_TIMEOUT = 25.0
_sids = itertools.count(1)


class Poll:
    """One polling session: packets not yet fetched, and the GET waiting
    for them (one at a time, as the load generator does)."""
    __slots__ = ('packets', 'waiter')

    def __init__(self):
        self.packets = []
        self.waiter = None


sessions = {}


def wake(poll, packets):
    if poll.waiter is not None and not poll.waiter.done():
        poll.waiter.set_result(packets)
        poll.waiter = None
        return True
    return False


async def polling(request):
    sid = request.query.get('sid')
    if sid is None:
        sid = f'p{next(_sids)}'
        sessions[sid] = Poll()
        return web.Response(text='0{"sid":"' + sid + '","upgrades":[],'
                            '"pingInterval":25000,"pingTimeout":20000,'
                            '"maxPayload":1000000}')
    poll = sessions.get(sid)
    if poll is None:
        return web.Response(status=400, text='unknown sid')
    if request.method == 'POST':
        echo = []
        for packet in (await request.text()).split(SEP):
            if packet[:1] in ('4', 'b'):  # messages are echoed; pongs dropped
                echo.append(packet)
            elif packet == '1':
                # The client's close: end the session and its held GET.
                sessions.pop(sid, None)
                echo = ['1']
                break
        if echo and not wake(poll, echo):
            poll.packets.extend(echo)
        return web.Response(text='ok')
    if poll.packets:
        packets, poll.packets = poll.packets, []
    else:
        loop = asyncio.get_running_loop()
        poll.waiter = waiter = loop.create_future()
        timer = loop.call_later(POLL_TIMEOUT, wake, poll, ['6'])
        packets = await waiter
        timer.cancel()
    return web.Response(text=SEP.join(packets))


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
