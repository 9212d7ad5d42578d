/*
 * eio.js: a small browser client for the Engine.IO protocol, revision 4.
 *
 * Written for the engineio demo from the protocol description; it has no
 * dependencies and needs no build step.
 *
 *   const socket = new EIO.Socket('/', {transports: ['polling', 'websocket']});
 *   socket.on('open', () => socket.send('hello'));
 *   socket.on('message', (data) => console.log(data));  // string or ArrayBuffer
 *   socket.on('upgrade', (name) => console.log('now on', name));
 *   socket.on('close', (reason) => console.log('closed:', reason));
 *
 * What it does, in protocol terms:
 *   - HTTP long-polling with fetch(): GET /engine.io/?EIO=4&transport=polling
 *     receives a payload (packets joined by the record separator 0x1e), a
 *     POST sends one; binary messages travel as "b" + base64 in payloads.
 *   - WebSocket: one packet per frame; binary messages are binary frames.
 *   - Upgrade: with a polling session open, a WebSocket is opened with the
 *     session id and "2probe" is sent; on "3probe" polling is paused (no new
 *     GET or POST, and the ones in flight are waited for), then "5" is sent
 *     and everything goes over the WebSocket.
 *   - Heartbeat: the server pings ("2"), the client answers "3". Without a
 *     ping for pingInterval + pingTimeout the connection is considered dead.
 */
(function (root) {
  'use strict';

  var OPEN = '0', CLOSE = '1', PING = '2', PONG = '3', MESSAGE = '4',
    UPGRADE = '5', NOOP = '6';
  var SEPARATOR = '\x1e';
  var PROBE_TIMEOUT_MS = 10000;

  // -- base64 for binary messages inside polling payloads -----------------
  function toBase64(buffer) {
    var bytes = new Uint8Array(buffer);
    var chunks = [];
    for (var i = 0; i < bytes.length; i += 0x8000) {
      chunks.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000)));
    }
    return btoa(chunks.join(''));
  }

  function fromBase64(text) {
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function asArrayBuffer(data) {
    if (data instanceof ArrayBuffer) return data;
    if (ArrayBuffer.isView(data)) {
      return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    }
    return null;
  }

  // A packet is {type: '4', data: string | ArrayBuffer | undefined}.
  function encodeForPolling(pkt) {
    if (pkt.data instanceof ArrayBuffer) return 'b' + toBase64(pkt.data);
    return pkt.type + (pkt.data === undefined ? '' : pkt.data);
  }

  function decodeText(text) {
    if (text.charAt(0) === 'b') return {type: MESSAGE, data: fromBase64(text.slice(1))};
    return {type: text.charAt(0), data: text.slice(1)};
  }

  function utf8Length(text) {
    return new Blob([text]).size;
  }

  // -- a tiny event emitter -------------------------------------------------
  function Emitter() {
    this._handlers = {};
  }
  Emitter.prototype.on = function (name, fn) {
    (this._handlers[name] = this._handlers[name] || []).push(fn);
    return this;
  };
  Emitter.prototype.off = function (name, fn) {
    var list = this._handlers[name] || [];
    var i = list.indexOf(fn);
    if (i >= 0) list.splice(i, 1);
    return this;
  };
  Emitter.prototype.emit = function (name) {
    var args = Array.prototype.slice.call(arguments, 1);
    var list = (this._handlers[name] || []).slice();
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].apply(this, args);
      } catch (err) {
        if (root.console) root.console.error(err);
      }
    }
  };

  // -- the socket -------------------------------------------------------------
  /**
   * new EIO.Socket(url, options)
   *   url: '/' (this page's origin) or 'http://host:port'.
   *   options.path: the Engine.IO endpoint, default '/engine.io/'.
   *   options.transports: ['polling', 'websocket'] (default), ['polling'],
   *     or ['websocket']. The first one opens the session; 'websocket' after
   *     'polling' means "upgrade when the server offers it".
   *   options.upgrade: false to never upgrade (default true).
   *   options.query: extra query arguments, an object.
   */
  function Socket(url, options) {
    Emitter.call(this);
    options = options || {};
    var base = new URL(url || '/', root.location ? root.location.href : undefined);
    var path = options.path || '/engine.io/';
    if (path.charAt(path.length - 1) !== '/') path += '/';
    this._httpBase = base.protocol + '//' + base.host + path;
    this._wsBase = (base.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + base.host + path;
    this._query = options.query || {};
    this.transports = (options.transports || ['polling', 'websocket']).slice();
    this.upgrade = options.upgrade !== false;

    this.id = null;             // the session id
    this.transport = null;      // 'polling' or 'websocket'
    this.readyState = 'opening';
    this.pingInterval = 25000;
    this.pingTimeout = 20000;
    this.maxPayload = 1000000;
    this.upgrades = [];

    this._writeBuffer = [];     // packets waiting for the transport
    this._pollInFlight = false;
    this._postInFlight = false;
    this._paused = false;       // polling is paused for an upgrade
    this._onPaused = null;      // called once nothing is in flight
    this._afterPost = null;     // close() waiting for a POST in flight
    this._ws = null;            // the WebSocket of the session, once on it
    this._probe = null;         // the WebSocket being probed
    this._pingTimer = null;
    this._seq = 0;

    var self = this;
    setTimeout(function () { self._open(); }, 0);
  }
  Socket.prototype = Object.create(Emitter.prototype);
  Socket.prototype.constructor = Socket;

  Socket.prototype._url = function (base, transport) {
    var params = new URLSearchParams(this._query);
    params.set('EIO', '4');
    params.set('transport', transport);
    if (this.id) params.set('sid', this.id);
    if (transport === 'polling') params.set('t', Date.now().toString(36) + (this._seq++));
    return base + '?' + params.toString();
  };

  Socket.prototype._open = function () {
    if (this.readyState !== 'opening') return;
    if (this.transports[0] === 'websocket') {
      this._openWebSocket();
    } else {
      this.transport = 'polling';
      this._poll();
    }
  };

  /** Send a message: a string, an ArrayBuffer or a typed array. */
  Socket.prototype.send = function (data) {
    var buffer = asArrayBuffer(data);
    this._sendPacket(MESSAGE, buffer !== null ? buffer : String(data));
    return this;
  };

  /** Close the connection (the 'close' event says 'forced close'). */
  Socket.prototype.close = function () {
    if (this.readyState === 'closed' || this.readyState === 'closing') return this;
    if (this.readyState === 'opening') {
      this._onClose('forced close');
      return this;
    }
    this.readyState = 'closing';
    var self = this;
    if (this._ws) {
      try { this._ws.send(CLOSE); } catch (e) { /* already gone */ }
      this._onClose('forced close');
    } else {
      // Flush what is queued and the close packet in one last POST.
      this._writeBuffer.push({type: CLOSE});
      var done = function () { self._onClose('forced close'); };
      if (this._postInFlight) {
        this._afterPost = function () { self._postNow(done); };
      } else {
        this._postNow(done);
      }
    }
    return this;
  };

  // -- packets in ---------------------------------------------------------------
  Socket.prototype._onPacket = function (pkt) {
    if (this.readyState === 'closed') return;
    switch (pkt.type) {
      case OPEN:
        this._onHandshake(JSON.parse(pkt.data));
        break;
      case PING:
        this._resetPingTimer();
        this._sendPacket(PONG, pkt.data || undefined);
        this.emit('ping');
        break;
      case MESSAGE:
        this.emit('message', pkt.data);
        break;
      case CLOSE:
        this._onClose('transport close');
        break;
      case NOOP:
        break;
      default:
        this.emit('error', new Error('unexpected packet ' + pkt.type));
    }
  };

  Socket.prototype._onHandshake = function (data) {
    this.id = data.sid;
    this.upgrades = data.upgrades || [];
    this.pingInterval = data.pingInterval;
    this.pingTimeout = data.pingTimeout;
    this.maxPayload = data.maxPayload || 0;
    this.readyState = 'open';
    this._resetPingTimer();
    this.emit('open');
    this._flush();
    if (this.transport === 'polling' && this.upgrade &&
        this.transports.indexOf('websocket') > 0 &&
        this.upgrades.indexOf('websocket') >= 0) {
      this._probeWebSocket();
    }
  };

  Socket.prototype._resetPingTimer = function () {
    var self = this;
    clearTimeout(this._pingTimer);
    // Protocol v4: the server pings every pingInterval and waits pingTimeout
    // for the pong, so silence longer than both means the server is gone.
    this._pingTimer = setTimeout(function () {
      self._onClose('ping timeout');
    }, this.pingInterval + this.pingTimeout);
  };

  // -- packets out --------------------------------------------------------------
  Socket.prototype._sendPacket = function (type, data) {
    if (this.readyState === 'closing' || this.readyState === 'closed') return;
    this._writeBuffer.push({type: type, data: data});
    this._flush();
  };

  Socket.prototype._flush = function () {
    if (this.readyState !== 'open' || !this._writeBuffer.length) return;
    if (this._ws) {
      var packets = this._writeBuffer;
      this._writeBuffer = [];
      for (var i = 0; i < packets.length; i++) {
        var p = packets[i];
        this._ws.send(p.data instanceof ArrayBuffer ? p.data
          : p.type + (p.data === undefined ? '' : p.data));
      }
    } else if (!this._paused && !this._postInFlight) {
      this._postNow();
    }
  };

  // One POST with as many queued packets as fit in maxPayload bytes.
  Socket.prototype._postNow = function (then) {
    var parts = [];
    var size = 0;
    while (this._writeBuffer.length) {
      var text = encodeForPolling(this._writeBuffer[0]);
      var n = utf8Length(text) + (parts.length ? 1 : 0);
      if (parts.length && this.maxPayload && size + n > this.maxPayload) break;
      parts.push(text);
      size += n;
      this._writeBuffer.shift();
    }
    if (!parts.length) {
      if (then) then();
      return;
    }
    var self = this;
    this._postInFlight = true;
    fetch(this._url(this._httpBase, 'polling'), {
      method: 'POST',
      body: parts.join(SEPARATOR),
      headers: {'Content-Type': 'text/plain;charset=UTF-8'},
      cache: 'no-store',
      credentials: 'same-origin'
    }).then(function (res) {
      if (!res.ok) throw new Error('POST answered ' + res.status);
      return res.text();
    }).then(function () {
      self._postInFlight = false;
      if (then) { then(); return; }
      var after = self._afterPost;
      self._afterPost = null;
      if (after) { after(); return; }
      self._checkPaused();
      self._flush();
    }, function (err) {
      self._postInFlight = false;
      if (then) { then(); return; }
      self._onError(err);
    });
  };

  // -- long-polling -------------------------------------------------------------
  Socket.prototype._poll = function () {
    if (this._pollInFlight || this._paused || this._ws) return;
    if (this.readyState !== 'open' && this.readyState !== 'opening') return;
    var self = this;
    this._pollInFlight = true;
    fetch(this._url(this._httpBase, 'polling'), {
      cache: 'no-store',
      credentials: 'same-origin'
    }).then(function (res) {
      if (!res.ok) throw new Error('GET answered ' + res.status);
      return res.text();
    }).then(function (body) {
      self._pollInFlight = false;
      var packets = body.split(SEPARATOR);
      for (var i = 0; i < packets.length; i++) {
        if (packets[i]) self._onPacket(decodeText(packets[i]));
        if (self.readyState === 'closed') return;
      }
      if (self._paused) {
        self._checkPaused();
      } else {
        self._poll();
      }
    }, function (err) {
      self._pollInFlight = false;
      self._onError(err);
    });
  };

  Socket.prototype._checkPaused = function () {
    if (this._paused && !this._pollInFlight && !this._postInFlight && this._onPaused) {
      var fn = this._onPaused;
      this._onPaused = null;
      fn();
    }
  };

  // -- WebSocket ----------------------------------------------------------------
  Socket.prototype._newWebSocket = function () {
    var ws = new WebSocket(this._url(this._wsBase, 'websocket'));
    ws.binaryType = 'arraybuffer';
    return ws;
  };

  Socket.prototype._frameToPacket = function (data) {
    if (typeof data === 'string') return {type: data.charAt(0), data: data.slice(1)};
    return {type: MESSAGE, data: data};
  };

  // WebSocket from the start: the open packet is the first frame.
  Socket.prototype._openWebSocket = function () {
    var ws;
    try {
      ws = this._newWebSocket();
    } catch (err) {
      this._onError(err);
      return;
    }
    this.transport = 'websocket';
    this._ws = ws;
    this._attachWebSocket(ws);
  };

  Socket.prototype._attachWebSocket = function (ws) {
    var self = this;
    ws.onmessage = function (ev) { self._onPacket(self._frameToPacket(ev.data)); };
    ws.onclose = function () {
      if (self._ws === ws) self._onClose('transport close');
    };
    ws.onerror = function () {
      if (self._ws === ws) self._onClose('transport error');
    };
  };

  // The upgrade: probe a WebSocket while polling goes on.
  Socket.prototype._probeWebSocket = function () {
    var self = this;
    var ws;
    try {
      ws = this._newWebSocket();
    } catch (err) {
      return;  // stay on polling
    }
    this._probe = ws;
    var settled = false;
    var timer = setTimeout(function () { fail('probe timed out'); }, PROBE_TIMEOUT_MS);

    function fail(why) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      self._probe = null;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch (e) { /* ignore */ }
      if (self._paused) {
        self._paused = false;
        self._onPaused = null;
        self._poll();
        self._flush();
      }
      self.emit('upgradeError', why);
    }

    ws.onopen = function () { ws.send(PING + 'probe'); };
    ws.onerror = function () { fail('websocket error'); };
    ws.onclose = function () { fail('websocket closed'); };
    ws.onmessage = function (ev) {
      if (ev.data !== PONG + 'probe') {
        fail('unexpected probe answer');
        return;
      }
      if (self.readyState !== 'open') {
        fail('socket not open');
        return;
      }
      // Pause polling: no new requests; wait for the ones in flight (the
      // server releases a pending GET once the probe succeeded).
      self._paused = true;
      self._onPaused = function () {
        if (settled || self.readyState !== 'open') {
          fail('socket closed during upgrade');
          return;
        }
        settled = true;
        clearTimeout(timer);
        self._probe = null;
        ws.send(UPGRADE);
        self._ws = ws;
        self.transport = 'websocket';
        self._attachWebSocket(ws);
        self._paused = false;
        self.emit('upgrade', 'websocket');
        self._flush();
      };
      self._checkPaused();
    };
  };

  // -- the end ------------------------------------------------------------------
  Socket.prototype._onError = function (err) {
    if (this.readyState === 'closed') return;
    this.emit('error', err);
    this._onClose('transport error');
  };

  Socket.prototype._onClose = function (reason) {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    clearTimeout(this._pingTimer);
    this._writeBuffer = [];
    var sockets = [this._ws, this._probe];
    this._ws = this._probe = null;
    for (var i = 0; i < sockets.length; i++) {
      var ws = sockets[i];
      if (!ws) continue;
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch (e) { /* ignore */ }
    }
    this.emit('close', reason);
  };

  root.EIO = {Socket: Socket, protocol: 4};
})(typeof window !== 'undefined' ? window : this);
