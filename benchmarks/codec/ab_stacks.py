#!/usr/bin/env python3
"""A/B of two copies of ``src/`` on the WebSocket echo of the stacks figure
(or the long-polling round trips of figure 3, or the sessions of figure 5:
``--scenario``), in one run: the same servers as ``run.py --only stacks``, with the Engine.IO
targets started twice (``-before`` from ``--before SRC``, ``-after`` from
``--after SRC``, default this tree's ``src/``), all interleaved and rotated
in every round, so the machine's drift hits both sides alike.

    python benchmarks/codec/ab_stacks.py --before /tmp/src-before \
        [--targets ours,ours-aiohttp,bare,bare-aiohttp,node] \
        [--conns 50,500] [--payloads text16] [--rounds 3] [--window 3] \
        [--scenario ws|polling|sessions]

Prints, per scenario, the median msg/s and server CPU per message of every
server and the ratios that matter: each Engine.IO target to its own bare
echo and to Node engine.io, before and after (medians of per-round ratios).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import run

EIO = ('ours', 'ours-aiohttp')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--before', required=True, help='the src/ of the A side')
    parser.add_argument('--after', default=str(run.REPO / 'src'))
    parser.add_argument('--targets', default='ours,ours-aiohttp,bare,bare-aiohttp,node')
    parser.add_argument('--conns', default='50,500')
    parser.add_argument('--payloads', default='text16')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--window', type=float, default=3.0)
    parser.add_argument('--warmup', type=float, default=1.0)
    parser.add_argument('--scenario', choices=['ws', 'polling', 'sessions'],
                        default='ws', help='ws: --conns x --payloads; polling: '
                        '--conns clients of 16-byte round trips (raw client); '
                        'sessions: --conns concurrent handshakes')
    args = parser.parse_args()
    os.sched_setaffinity(0, {run.LOAD_CORE})
    harness = run.Harness(argparse.Namespace(
        quick=False, rounds=1, window=None, warmup=None, idle_sessions=None,
        skip_targets=None, only=None, with_patches=None, targets=None,
        loadgen_procs=1, loadgen_cores=str(run.LOAD_CORE)))
    harness.setup()
    # Snapshots, as run.py takes one: edits made while this runs don't count.
    sides = {}
    for side, src in (('before', args.before), ('after', args.after)):
        dest = harness.logdir / f'src-{side}'
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns('__pycache__'))
        sides[side] = str(dest)
    targets: dict[str, run.Target] = {}
    for key in args.targets.split(','):
        target = harness.targets[key]
        if key in EIO:
            for side, src in sides.items():
                targets[f'{key}-{side}'] = run.Target(
                    f'{key}-{side}', f'{target.label} ({side})', target.argv,
                    {**target.env, 'PYTHONPATH': src})
        else:
            targets[key] = target
    servers = {k: run.Server(t, harness.logdir).start() for k, t in targets.items()}
    scenarios = [(int(c), p) for c in args.conns.split(',') for p in args.payloads.split(',')]
    # One entry per round (None for a failed run), so that ratios pair the
    # runs of the same round.
    results: dict[tuple[int, str], dict[str, list[dict[str, Any] | None]]] = {
        s: {k: [] for k in servers} for s in scenarios}
    keys = list(servers)
    command = {'ws': 'ws-echo', 'polling': 'polling',
               'sessions': 'sessions'}[args.scenario]

    def options(conns: int, payload: str) -> dict[str, Any]:
        if args.scenario == 'polling':
            return {'clients': conns, 'raw': 1}
        if args.scenario == 'sessions':
            return {'concurrency': conns}
        return {'conns': conns, 'payload': payload}

    try:
        for r in range(args.rounds):
            for i, (conns, payload) in enumerate(scenarios):
                shift = (r + i) % len(keys)
                for key in keys[shift:] + keys[:shift]:
                    srv = servers[key]
                    srv.ensure()
                    res = run.run_loadgen(harness.node, command, srv,
                                          args.warmup + args.window + 60,
                                          warmup=args.warmup, duration=args.window,
                                          **options(conns, payload))
                    results[(conns, payload)][key].append(res)
                    if res:
                        run.log(f'  round {r + 1} {conns} {payload} {key:<22} '
                                f'{run.fmt_rate(res["rate"]):>6}/s '
                                f'{res.get("server_cpu_us_per_op") or 0:.1f} us/op '
                                f'loadgen {res.get("loadgen_cpu_pct") or 0:.0f}%')
                    time.sleep(0.2)
    finally:
        for srv in servers.values():
            srv.stop()

    def med(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None and v]
        return statistics.median(present) if present else None

    def ratio(key: str, other: str, scenario: tuple[int, str], field: str) -> float | None:
        if other not in results[scenario]:
            return None
        a, b = results[scenario][key], results[scenario][other]
        return med([x[field] / y[field] for x, y in zip(a, b, strict=True)
                    if x and y and x.get(field) and y.get(field)])

    def f(v: float | None) -> str:
        return '-' if v is None else f'{v:.2f}'

    print(f'\nA/B: before={args.before} after={args.after}; {args.rounds} rounds, '
          f'{args.window} s windows; log {harness.logdir}')
    for scenario in scenarios:
        print(f'\n{scenario[0]} conns {scenario[1]}')
        print('| server | msg/s | CPU us/msg | msg/s / own bare | msg/s / node '
              '| CPU / own bare | CPU / node |')
        print('|---|---|---|---|---|---|---|')
        for key in keys:
            runs = [x for x in results[scenario][key] if x]
            base = key.rsplit('-', 1)[0] if key.endswith(('-before', '-after')) else key
            bare = run.own_bare(base) if base in EIO else None
            print(f'| {key} | {run.fmt_rate(med([x["rate"] for x in runs]))} '
                  f'| {f(med([x.get("server_cpu_us_per_op") for x in runs]))} '
                  f'| {f(ratio(key, bare, scenario, "rate")) if bare else ""} '
                  f'| {f(ratio(key, "node", scenario, "rate")) if base in EIO else ""} '
                  f'| {f(ratio(key, bare, scenario, "server_cpu_us_per_op")) if bare else ""} '
                  f'| {f(ratio(key, "node", scenario, "server_cpu_us_per_op")) if base in EIO else ""} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
