"""The ceiling: a bare ASGI WebSocket echo on the same stack (uvicorn with
uvloop + httptools, same WebSocket implementation), no Engine.IO.

It greets each WebSocket with a fixed Engine.IO open packet, so the load
generator drives it exactly as it drives the Engine.IO servers, then echoes
every frame back unchanged.

It is also the ceiling of the long-polling figure: just enough Engine.IO
polling for the load generator's ``polling`` scenario and nothing more (a
dict of sid -> pending packets and the waiting GET), so that this project's
polling round trips over these show what the Engine.IO layer costs.  A GET
without a sid is the handshake (an open packet with a new sid); a POST
queues its message packets for the sid and answers ``ok``; a GET returns
the queued packets, or waits until a POST queues some.  No pings, no
upgrades, no checks beyond a known sid.
"""
import argparse
import sys

import uvicorn
from bare_polling import answer

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--ws', default='auto')
args = parser.parse_args()


OPEN = ('0{"sid":"bare","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')


TEXT_HEADERS = [(b'content-type', b'text/plain; charset=UTF-8')]


def query_sid(scope):
    for part in scope['query_string'].split(b'&'):
        if part.startswith(b'sid='):
            return part[4:].decode()
    return None


async def polling(scope, receive, send):
    async def read_body():
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get('body', b''))
            if not message.get('more_body'):
                return b''.join(chunks).decode()

    status, text = await answer(scope['method'], query_sid(scope), read_body)
    data = text.encode()
    await send({'type': 'http.response.start', 'status': status,
                'headers': [*TEXT_HEADERS,
                            (b'content-length', str(len(data)).encode())]})
    await send({'type': 'http.response.body', 'body': data})


async def app(scope, receive, send):
    kind = scope['type']
    if kind == 'websocket':
        await receive()  # websocket.connect
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.send', 'text': OPEN})
        while True:
            message = await receive()
            if message['type'] != 'websocket.receive':
                return
            text = message.get('text')
            if text is not None:
                await send({'type': 'websocket.send', 'text': text})
            else:
                await send({'type': 'websocket.send',
                            'bytes': message['bytes']})
    elif kind == 'http':
        await polling(scope, receive, send)
    elif kind == 'lifespan':
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                await send({'type': 'lifespan.shutdown.complete'})
                return


print(f'bare ASGI echo (WebSocket and long-polling); uvicorn {uvicorn.__version__}', file=sys.stderr,
      flush=True)
uvicorn.run(app, host='127.0.0.1', port=args.port, loop='uvloop',
            http='httptools', ws=args.ws, log_level='warning',
            access_log=False, backlog=4096)
