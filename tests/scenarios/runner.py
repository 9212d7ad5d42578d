"""Run the scenario table against a server listening on 127.0.0.1."""
from __future__ import annotations

import json

import requests

from .table import SCENARIOS, Step


def fill(value: str, sid: str | None, host: str) -> str:
    return value.replace('{sid}', sid or '').replace('{host}', host)


def run(base_url: str, name: str, path: str = '/engine.io/') -> None:
    host = base_url.split('://', 1)[1]
    sid = None
    with requests.Session() as http:
        for i, step in enumerate(SCENARIOS[name]):
            check(http, base_url + path, step, sid, host, f'{name} step {i}')
            if step.body_starts == b'0{"sid":"':
                sid = json.loads(http.last.content[1:])['sid']  # type: ignore[attr-defined]


def check(http: requests.Session, url: str, step: Step, sid: str | None,
          host: str, where: str) -> None:
    query = {k: fill(v, sid, host) for k, v in step.query.items()}
    headers = {k: fill(v, sid, host) for k, v in step.headers.items()}
    r = http.request(step.method, url, params=query, data=step.body,
                     headers=headers, timeout=10)
    http.last = r  # type: ignore[attr-defined]
    assert r.status_code == step.status, (where, r.status_code, r.content)
    if step.code is not None:
        assert r.json()['code'] == step.code, (where, r.content)
    if step.body_is is not None:
        assert r.content == step.body_is, (where, r.content)
    if step.body_starts is not None:
        assert r.content.startswith(step.body_starts), (where, r.content)
    for k, v in step.has_headers.items():
        assert r.headers.get(k) == fill(v, sid, host), (where, dict(r.headers))
    for k in step.no_headers:
        assert k not in r.headers, (where, dict(r.headers))
