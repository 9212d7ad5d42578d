"""The bare long-polling of the ``bare_*`` echo servers, without any web
framework: just enough Engine.IO polling for the load generator's
``polling`` scenario (a dict of sid -> packets not yet fetched and the GET
waiting for them; no pings, no checks), so that a server's polling round
trips over these show what the Engine.IO layer costs on its stack.

Each server translates its requests into :func:`answer` and writes the
``(status, text)`` it returns.
"""
import asyncio
import itertools

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


async def answer(method, sid, read_body):
    """``(status, text)`` of one polling request; ``read_body()`` is a
    coroutine function giving a POST's body as text."""
    if sid is None:
        sid = f'p{next(_sids)}'
        sessions[sid] = Poll()
        return 200, ('0{"sid":"' + sid + '","upgrades":[],'
                     '"pingInterval":25000,"pingTimeout":20000,'
                     '"maxPayload":1000000}')
    poll = sessions.get(sid)
    if poll is None:
        return 400, 'unknown sid'
    if method == 'POST':
        echo = []
        for packet in (await read_body()).split(SEP):
            if packet[:1] in ('4', 'b'):  # messages are echoed; pongs dropped
                echo.append(packet)
            elif packet == '1':
                # The client's close: end the session and its held GET.
                sessions.pop(sid, None)
                echo = ['1']
                break
        if echo and not wake(poll, echo):
            poll.packets.extend(echo)
        return 200, 'ok'
    if poll.packets:
        packets, poll.packets = poll.packets, []
    else:
        loop = asyncio.get_running_loop()
        poll.waiter = waiter = loop.create_future()
        timer = loop.call_later(POLL_TIMEOUT, wake, poll, ['6'])
        packets = await waiter
        timer.cancel()
    return 200, SEP.join(packets)
