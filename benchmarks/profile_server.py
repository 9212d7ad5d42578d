#!/usr/bin/env python3
"""Profile one benchmark target under load with py-spy.

    python benchmarks/profile_server.py [--target ours] [--scenario ws|polling|sessions]
                                 [--conns 50] [--payload text16] [--seconds 8]

Starts the target's server pinned to core 0 (as run.py does), drives it with
the Node load generator on core 1, attaches ``py-spy record`` to the server
for the load's measured window only (no start-up or import frames), and
prints the functions with the most samples: by self time and inclusive,
each also as microseconds of server CPU per operation (the share of the
samples times the CPU per operation measured in the same window).  The raw
collapsed stacks are kept in benchmarks/results/ (load them into
speedscope.app or flamegraph.pl).  Needs py-spy (``pip install py-spy``).
"""
from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run


def summarize(raw: Path, us_per_op: float | None, top: int) -> str:
    self_c: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    modules: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(' ')
        n = int(count)
        total += n
        # "func (path/file.py:LINE)" -> "func (path/file.py)"
        frames = [re.sub(r':\d+\)$', ')', f) for f in stack.split(';')]
        self_c[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
        leaf = frames[-1]
        m = re.search(r'\(([^)]*)\)$', leaf)
        path = m.group(1) if m else leaf
        mod = path.split('/')[0] if '/' in path else path
        modules[mod] += n
    if not total:
        return 'no samples'

    def cost(n: int) -> str:
        share = n / total
        us = f'{share * us_per_op:6.2f} us' if us_per_op else ''
        return f'{100 * share:5.1f}% {us}'
    out = [f'{total} samples; server CPU per operation: '
           f'{us_per_op:.2f} us' if us_per_op else f'{total} samples']
    out.append('\nself time by package of the leaf frame:')
    out += [f'  {cost(n)}  {m}' for m, n in modules.most_common(12)]
    out.append('\nself time by function:')
    out += [f'  {cost(n)}  {f}' for f, n in self_c.most_common(top)]
    out.append('\ninclusive time by function:')
    out += [f'  {cost(n)}  {f}' for f, n in incl.most_common(top)]
    return '\n'.join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--target', default='ours',
                        help='a target key of run.py (ours, pe4151, bare, ours-gevent...)')
    parser.add_argument('--scenario', default='ws', choices=['ws', 'polling', 'sessions'])
    parser.add_argument('--conns', type=int, default=50)
    parser.add_argument('--payload', default='text16')
    parser.add_argument('--seconds', type=float, default=8)
    parser.add_argument('--rate', type=int, default=250, help='py-spy samples/s')
    parser.add_argument('--top', type=int, default=30)
    parser.add_argument('--native', action='store_true', help='py-spy --native (C frames too)')
    parser.add_argument('--patch', default=None,
                        help="profile 'ours-patched' with these experiments/fastpath.py patches")
    args = parser.parse_args()
    pyspy = shutil.which('py-spy')
    if pyspy is None:
        raise SystemExit('py-spy is not installed (pip install py-spy)')
    run.os.sched_setaffinity(0, {run.LOAD_CORE})
    harness = run.Harness(run.argparse.Namespace(
        quick=True, rounds=1, window=None, warmup=None, idle_sessions=None,
        skip_targets=None, only=None, with_patches=args.patch, targets=None,
        loadgen_procs=1, loadgen_cores=str(run.LOAD_CORE)))
    harness.setup()
    if args.target not in harness.targets:
        raise SystemExit(f'unknown target {args.target}; one of {", ".join(harness.targets)}')
    srv = run.Server(harness.targets[args.target], harness.logdir).start()
    run.RESULTS.mkdir(exist_ok=True)
    raw = run.RESULTS / f'profile-{args.target}-{args.scenario}-{harness.stamp}.txt'
    warmup = 1.0
    try:
        if args.scenario == 'ws':
            command, options = 'ws-echo', {'conns': args.conns, 'payload': args.payload}
        elif args.scenario == 'polling':
            command, options = 'polling', {'clients': args.conns}
        else:
            command, options = 'sessions', {'concurrency': args.conns}
        result: dict[str, object] = {}

        def load() -> None:
            res = run.run_loadgen(harness.node, command, srv, warmup + args.seconds + 60,
                                  warmup=warmup, duration=args.seconds, **options)
            result.update(res or {})
        thread = threading.Thread(target=load)
        thread.start()
        time.sleep(warmup + 0.3)
        subprocess.run([pyspy, 'record', '--pid', str(srv.pid), '--rate', str(args.rate),
                        '--duration', str(int(args.seconds - 0.6)), '--format', 'raw',
                        '--output', str(raw)] + (['--native'] if args.native else ['--nonblocking']),
                       check=True, timeout=args.seconds + 60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        thread.join(args.seconds + 90)
    finally:
        srv.stop()
    us = result.get('server_cpu_us_per_op')
    print(f'{args.target} {args.scenario} {options}: '
          f'{run.fmt_rate(result.get("rate"))}/s (profiled: py-spy adds overhead)')
    print(summarize(raw, us if isinstance(us, float) else None, args.top))
    print(f'\nraw stacks: {raw.relative_to(run.REPO)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
