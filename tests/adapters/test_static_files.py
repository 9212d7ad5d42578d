"""Static file rules shared by WSGIApp and ASGIApp (pure resolution), and
WSGIApp routing over a real socket."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

import engineio
from engineio.adapters.routing import find_static_file

RULES = {
    '/': 'latency.html',
    '/static/engine.io.js': 'static/engine.io.js',
    '/typed': {'filename': 'data.bin', 'content_type': 'text/plain'},
    '/static': './public',
    '/assets/': './assets',
}


@pytest.mark.parametrize('path,filename,ctype', [
    ('/', 'latency.html', 'text/html'),
    ('/static/engine.io.js', 'static/engine.io.js', 'text/javascript'),
    ('/typed', 'data.bin', 'text/plain'),
    ('/static/index.html', './public/index.html', 'text/html'),
    ('/static/css/styles.css', './public/css/styles.css', 'text/css'),
    ('/static/', './public/index.html', 'text/html'),
    ('/static/img/x.png', './public/img/x.png', 'image/png'),
    ('/static/file.unknownext', './public/file.unknownext',
     'application/octet-stream'),
    ('/static/noext', './public/noext', 'application/octet-stream'),
    ('/assets/a.json', './assets/a.json', 'application/json'),
])
def test_rules(path, filename, ctype):
    found = find_static_file(path, RULES)
    assert found is not None
    assert os.path.normpath(found.filename) == os.path.normpath(filename)
    assert found.content_type == ctype


@pytest.mark.parametrize('path', ['/nothing', '/staticx/a.js', '/static/../x',
                                  '/static/a/../../etc/passwd',
                                  '/static/..%2f', '/static/a\\..\\b'])
def test_no_match_or_escape(path):
    found = find_static_file(path, RULES)
    assert found is None or '..' not in Path(found.filename).parts


def test_default_file_key():
    rules = {'/static': './public', '': 'image.gif'}
    found = find_static_file('/static/', rules)
    assert found.filename.endswith('public/image.gif')
    assert found.content_type == 'image/gif'
    rules = {'/static': './public',
             '': {'filename': 'image.gif', 'content_type': 'text/plain'}}
    found = find_static_file('/static/', rules)
    assert found.content_type == 'text/plain'


@pytest.fixture
def served(tmp_path):
    (tmp_path / 'public').mkdir()
    (tmp_path / 'public' / 'index.html').write_text('<h1>index</h1>')
    (tmp_path / 'public' / 'app.js').write_text('console.log(1)')
    (tmp_path / 'secret.txt').write_text('top secret')
    (tmp_path / 'root.html').write_text('<p>root</p>')

    def other(environ, start_response):
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'other app']

    eio = engineio.Server(async_mode='threading')
    app = engineio.WSGIApp(eio, other, static_files={
        '/': str(tmp_path / 'root.html'),
        '/public': str(tmp_path / 'public'),
    })
    server = make_server('127.0.0.1', 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_port}'
    server.shutdown()
    thread.join(5)


def test_wsgi_routing(served):
    r = requests.get(served + '/', timeout=5)
    assert r.text == '<p>root</p>' and r.headers['Content-Type'] == 'text/html'
    r = requests.get(served + '/public/', timeout=5)
    assert r.text == '<h1>index</h1>'
    r = requests.get(served + '/public/app.js', timeout=5)
    assert r.headers['Content-Type'] == 'text/javascript'
    # A rule whose file is missing falls through to the other application.
    r = requests.get(served + '/public/missing.js', timeout=5)
    assert r.text == 'other app'
    r = requests.get(served + '/public/../secret.txt', timeout=5)
    assert 'top secret' not in r.text
    r = requests.get(served + '/anything/else', timeout=5)
    assert r.text == 'other app'
    r = requests.get(served + '/engine.io/?EIO=4&transport=polling', timeout=5)
    assert r.text.startswith('0{"sid"')


def test_wsgi_404_without_other_app():
    eio = engineio.Server(async_mode='threading')
    app = engineio.WSGIApp(eio)
    statuses = []
    body = app({'PATH_INFO': '/nope', 'REQUEST_METHOD': 'GET'},
               lambda status, headers: statuses.append(status))
    assert statuses == ['404 Not Found'] and b''.join(body) == b'Not Found'


def test_custom_engineio_path():
    eio = engineio.Server(async_mode='threading')
    app = engineio.WSGIApp(eio, engineio_path='/custom/path/')
    statuses = []
    body = app({'PATH_INFO': '/custom/path/', 'REQUEST_METHOD': 'GET',
                'QUERY_STRING': 'EIO=4&transport=polling',
                'wsgi.input': None},
               lambda status, headers: statuses.append(status))
    assert statuses == ['200 OK'] and b''.join(body).startswith(b'0{')


def test_middleware_is_deprecated():
    eio = engineio.Server(async_mode='threading')
    with pytest.warns(DeprecationWarning):
        engineio.Middleware(eio)
