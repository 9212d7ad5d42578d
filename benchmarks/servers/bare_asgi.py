"""The ceiling: a bare ASGI WebSocket echo on the same stack (uvicorn with
uvloop + httptools, same WebSocket implementation), no Engine.IO.

It greets each WebSocket with a fixed Engine.IO open packet, so the load
generator drives it exactly as it drives the Engine.IO servers, then echoes
every frame back unchanged.  HTTP requests get a fixed 200 answer.
"""
import argparse
import sys

import uvicorn

parser = argparse.ArgumentParser()
parser.add_argument('--port', type=int, required=True)
parser.add_argument('--ws', default='auto')
args = parser.parse_args()

OPEN = ('0{"sid":"bare","upgrades":[],"pingInterval":25000,'
        '"pingTimeout":20000,"maxPayload":1000000}')


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
        await send({'type': 'http.response.start', 'status': 200,
                    'headers': [(b'content-type', b'text/plain'),
                                (b'content-length', b'2')]})
        await send({'type': 'http.response.body', 'body': b'ok'})
    elif kind == 'lifespan':
        while True:
            message = await receive()
            if message['type'] == 'lifespan.startup':
                await send({'type': 'lifespan.startup.complete'})
            elif message['type'] == 'lifespan.shutdown':
                await send({'type': 'lifespan.shutdown.complete'})
                return


print(f'bare ASGI echo; uvicorn {uvicorn.__version__}', file=sys.stderr,
      flush=True)
uvicorn.run(app, host='127.0.0.1', port=args.port, loop='uvloop',
            http='httptools', ws=args.ws, log_level='warning',
            access_log=False, backlog=4096)
