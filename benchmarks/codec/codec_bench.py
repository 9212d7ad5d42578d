"""Codec micro-benchmark: ``engineio.packet`` / ``engineio.payload``.

Runs under whichever interpreter starts it, against whichever ``engineio``
that interpreter imports (this project with PYTHONPATH=src, or
python-engineio 4.15.1 in its own venv), through the public API both share:
``Packet(type, data).encode(b64)``, ``Packet(encoded_packet=...)``,
``Payload(packets).encode()``, ``Payload(encoded_payload=...)``.

Every operation builds new objects (python-engineio caches a packet's
encoding on the object), and every decoded result is checked against the
expected one before timing, so both sides do the same work.  Prints one JSON
object: operations per CPU second for each case (best of several batches).

    python codec_bench.py [--seconds-per-case 0.5]
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import engineio
from engineio import packet as pk
from engineio import payload as pl

MESSAGE = pk.MESSAGE
TEXT = 'abcdefghijklmnop'                       # 16 bytes
BINARY = b'0123456789abcdef'                    # 16 bytes
OBJ = {'id': 42, 'name': 'abcdefgh', 'tags': ['x', 'y'], 'ok': True}
# A 16-packet polling payload: 10 text messages, 3 binary, 3 JSON.
MIX = [(MESSAGE, TEXT)] * 10 + [(MESSAGE, BINARY)] * 3 + [(MESSAGE, OBJ)] * 3

ENC_TEXT = '4' + TEXT
ENC_B64 = pk.Packet(MESSAGE, BINARY).encode(b64=True)
ENC_JSON = pk.Packet(MESSAGE, OBJ).encode()
ENC_MIX = pl.Payload(packets=[pk.Packet(t, d) for t, d in MIX]).encode()


def case_encode_text():
    return pk.Packet(MESSAGE, TEXT).encode()


def case_decode_text():
    return pk.Packet(encoded_packet=ENC_TEXT)


def case_encode_binary():
    return pk.Packet(MESSAGE, BINARY).encode()


def case_decode_binary():
    return pk.Packet(encoded_packet=BINARY)


def case_encode_binary_b64():
    return pk.Packet(MESSAGE, BINARY).encode(b64=True)


def case_decode_binary_b64():
    return pk.Packet(encoded_packet=ENC_B64)


def case_encode_json():
    return pk.Packet(MESSAGE, OBJ).encode()


def case_decode_json():
    return pk.Packet(encoded_packet=ENC_JSON)


def case_encode_payload16():
    return pl.Payload(packets=[pk.Packet(t, d) for t, d in MIX]).encode()


def case_decode_payload16():
    return pl.Payload(encoded_payload=ENC_MIX)


CASES = {
    'packet encode text': (case_encode_text, ENC_TEXT),
    'packet decode text': (case_decode_text, (MESSAGE, TEXT)),
    'packet encode binary': (case_encode_binary, BINARY),
    'packet decode binary': (case_decode_binary, (MESSAGE, BINARY)),
    'packet encode binary b64': (case_encode_binary_b64, 'b' + 'MDEyMzQ1Njc4OWFiY2RlZg=='),
    'packet decode binary b64': (case_decode_binary_b64, (MESSAGE, BINARY)),
    'packet encode JSON': (case_encode_json, ENC_JSON),
    'packet decode JSON': (case_decode_json, (MESSAGE, OBJ)),
    'payload encode 16 packets': (case_encode_payload16, ENC_MIX),
    'payload decode 16 packets': (case_decode_payload16, [(t, d) for t, d in MIX]),
}


# The functions this project's servers call per packet (no Packet objects on
# the hot path).  python-engineio has no such layer: its servers build and
# encode Packet objects, so the public-API case is its server path too.
SERVER_PATH = {}
if hasattr(pk, 'encode_data') and hasattr(pl, 'decode_body'):
    _MIX_FRAMES = [pk.encode_data(t, d) for t, d in MIX]
    SERVER_PATH = {
        'packet encode text': (lambda: pk.encode_data(MESSAGE, TEXT), ENC_TEXT),
        'packet decode text': (lambda: pk.decode_text(ENC_TEXT), (MESSAGE, TEXT)),
        'packet encode binary': (lambda: pk.encode_data(MESSAGE, BINARY), BINARY),
        'packet encode binary b64': (lambda: pk.b64_frame(BINARY), 'b' + 'MDEyMzQ1Njc4OWFiY2RlZg=='),
        'packet decode binary b64': (lambda: pk.decode_text(ENC_B64), (MESSAGE, BINARY)),
        'packet encode JSON': (lambda: pk.encode_data(MESSAGE, OBJ), ENC_JSON),
        'packet decode JSON': (lambda: pk.decode_text(ENC_JSON), (MESSAGE, OBJ)),
        'payload encode 16 packets': (
            lambda: pl.encode_frames([pk.encode_data(t, d) for t, d in MIX]), ENC_MIX),
        'payload decode 16 packets': (lambda: pl.decode_body(ENC_MIX), [(t, d) for t, d in MIX]),
    }


def normalize(result):
    if isinstance(result, pk.Packet):
        return (result.packet_type, result.data)
    if isinstance(result, pl.Payload):
        return [(p.packet_type, p.data) for p in result.packets]
    return result


# CPU time of this process: a busy machine steals wall time, not this.
clock = time.process_time


def bench(fn, seconds):
    # Calibrate a batch of about 20 ms, then keep the best batch.
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        if dt >= 0.02 or n >= 1 << 22:
            break
        n *= 2
    best = n / dt
    deadline = clock() + seconds
    batches = 1
    while clock() < deadline and batches < 10_000:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        best = max(best, n / dt)
        batches += 1
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds-per-case', type=float, default=0.5)
    parser.add_argument('--only', default='')
    args = parser.parse_args()
    out = {'engineio': getattr(engineio, '__version__', None),
           'engineio_file': engineio.__file__,
           'python': sys.version.split()[0], 'ops_per_s': {}}
    for name, (fn, expected) in CASES.items():
        if args.only and args.only not in name:
            continue
        got = normalize(fn())
        if got != expected:
            raise SystemExit(f'{name}: got {got!r}, expected {expected!r}')
        out['ops_per_s'][name] = bench(fn, args.seconds_per_case)
    out['server_path_ops_per_s'] = {}
    for name, (fn, expected) in SERVER_PATH.items():
        if args.only and args.only not in name:
            continue
        got = normalize(fn())
        if isinstance(got, list) and got and isinstance(got[0], tuple):
            got = [tuple(x) for x in got]
        if got != expected:
            raise SystemExit(f'server path {name}: got {got!r}, expected {expected!r}')
        out['server_path_ops_per_s'][name] = bench(fn, args.seconds_per_case)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
