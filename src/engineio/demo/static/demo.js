/* The demo page: connection facts, the latency graph, the chat. */
(function () {
  'use strict';

  var PROBE_EVERY_MS = 500;
  var MAX_SAMPLES = 120;

  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  var transports = (params.get('transports') || 'polling,websocket').split(',')
    .filter(function (t) { return t === 'polling' || t === 'websocket'; });
  if (!transports.length) transports = ['polling', 'websocket'];

  // Everything the page knows, readable from the console (and by tests).
  var demo = window.demo = {
    transports: transports,
    state: 'connecting',
    sid: null,
    transport: null,
    upgraded: false,
    upgradeMs: null,      // time from open to upgrade
    echoes: 0,            // latency echoes received
    samples: [],          // {t, ms, transport}
    upgradeAtSample: null,
    chat: [],             // {name, text, from, mine}
    binaryEchoes: 0,
    online: 0,
    log: [],
    closeReason: null
  };

  var socket = null;
  var openedAt = 0;
  var seq = 0;
  var pending = {};       // probe seq -> performance.now() at send
  var probeTimer = null;
  var binaryPending = null;
  var myName = 'tab-' + Math.random().toString(36).slice(2, 6);
  $('name').value = myName;

  document.querySelectorAll('[data-transports]').forEach(function (a) {
    if (a.getAttribute('data-transports') === transports.join(',')) a.className = 'current';
  });

  function log(text) {
    var stamp = new Date().toLocaleTimeString();
    demo.log.push(text);
    var li = document.createElement('li');
    li.textContent = stamp + '  ' + text;
    $('log').appendChild(li);
    $('log').scrollTop = $('log').scrollHeight;
  }

  function setBadge(id, text, cls) {
    var el = $(id);
    el.textContent = text;
    el.className = 'badge ' + (cls || '');
  }

  function connect() {
    seq = 0;
    pending = {};
    demo.state = 'connecting';
    demo.upgraded = false;
    demo.upgradeMs = null;
    demo.closeReason = null;
    setBadge('state', 'connecting');
    setBadge('transport', '-');
    $('upgrade').textContent = transports.length > 1 ? 'waiting…' : 'not requested';
    log('connecting with transports ' + transports.join(', '));

    var current = socket = new EIO.Socket('/', {transports: transports});
    // Events of a socket replaced by "Reconnect" are ignored.
    var on = function (name, fn) {
      current.on(name, function (arg) { if (current === socket) fn(arg); });
    };
    on('open', function () {
      openedAt = performance.now();
      demo.state = 'open';
      demo.sid = socket.id;
      demo.transport = socket.transport;
      setBadge('state', 'open', 'open');
      setBadge('transport', socket.transport, socket.transport);
      $('sid').textContent = socket.id;
      $('heartbeat').textContent = 'ping every ' + socket.pingInterval / 1000 +
        ' s, timeout ' + socket.pingTimeout / 1000 + ' s';
      log('open on ' + socket.transport + ' (sid ' + socket.id + ')');
      probeTimer = setInterval(sendProbe, PROBE_EVERY_MS);
      sendProbe();
    });
    on('upgrade', function (name) {
      demo.upgraded = true;
      demo.transport = name;
      demo.upgradeMs = Math.round(performance.now() - openedAt);
      demo.upgradeAtSample = demo.samples.length;
      setBadge('transport', name, name);
      $('upgrade').textContent = 'polling → ' + name + ' after ' + demo.upgradeMs + ' ms';
      log('upgraded to ' + name + ' ' + demo.upgradeMs + ' ms after open');
    });
    on('upgradeError', function (why) {
      $('upgrade').textContent = 'failed (' + why + '), staying on polling';
      log('upgrade failed: ' + why);
    });
    on('ping', function () {
      log('heartbeat: ping from the server, pong sent');
    });
    on('message', onMessage);
    on('close', function (reason) {
      clearInterval(probeTimer);
      demo.state = 'closed';
      demo.closeReason = reason;
      setBadge('state', 'closed', 'closed');
      log('closed: ' + reason);
    });
  }

  function sendProbe() {
    if (!socket || socket.readyState !== 'open') return;
    seq += 1;
    pending[seq] = {at: performance.now(), transport: socket.transport};
    socket.send(JSON.stringify({type: 'echo', seq: seq}));
  }

  function onMessage(data) {
    if (data instanceof ArrayBuffer) {
      onBinary(data);
      return;
    }
    if (data.charAt(0) !== '{') return;
    var msg = JSON.parse(data);
    if (msg.type === 'echo') {
      var sent = pending[msg.seq];
      if (sent === undefined) return;
      delete pending[msg.seq];
      demo.echoes += 1;
      addSample(performance.now() - sent.at, sent.transport);
    } else if (msg.type === 'chat') {
      var mine = msg.from === (socket.id || '').slice(0, 6);
      demo.chat.push({name: msg.name, text: msg.text, from: msg.from, mine: mine});
      addChatLine(msg.name, msg.text, mine ? 'me' : '');
    } else if (msg.type === 'welcome' || msg.type === 'presence') {
      demo.online = msg.online;
      $('online').textContent = msg.online + (msg.online === 1 ? ' tab' : ' tabs');
      if (msg.joined && msg.joined !== (socket.id || '').slice(0, 6)) {
        addChatLine('', msg.joined + ' joined', 'system');
      }
      if (msg.left) addChatLine('', msg.left + ' left (' + msg.reason + ')', 'system');
    }
  }

  // -- latency graph ----------------------------------------------------------
  // A round trip, coloured by the transport the probe was sent on.
  function addSample(ms, transport) {
    demo.samples.push({t: Date.now(), ms: ms, transport: transport});
    if (demo.samples.length > MAX_SAMPLES) {
      demo.samples.shift();
      if (demo.upgradeAtSample !== null) demo.upgradeAtSample -= 1;
    }
    var values = demo.samples.map(function (s) { return s.ms; });
    var sum = values.reduce(function (a, b) { return a + b; }, 0);
    $('stats').textContent = 'last ' + ms.toFixed(1) + ' ms · min ' +
      Math.min.apply(null, values).toFixed(1) + ' · avg ' + (sum / values.length).toFixed(1) +
      ' · max ' + Math.max.apply(null, values).toFixed(1) + ' ms over ' + values.length +
      ' round trips on ' + socket.transport;
    draw();
  }

  function draw() {
    var canvas = $('chart');
    var ratio = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== w * ratio) { canvas.width = w * ratio; canvas.height = h * ratio; }
    var ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var left = 44, bottom = h - 20, top = 10, right = w - 10;
    var samples = demo.samples;
    var max = 1;
    samples.forEach(function (s) { if (s.ms > max) max = s.ms; });
    max = niceCeil(max);

    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#667085';
    ctx.strokeStyle = '#e4e7ec';
    ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i++) {
      var y = bottom - (bottom - top) * i / 4;
      ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke();
      var label = max * i / 4;
      ctx.fillText((label % 1 ? label.toFixed(1) : label) + ' ms', 2, y + 4);
    }
    ctx.fillText('round trips (newest on the right)', left, h - 4);
    if (!samples.length) return;

    var step = (right - left) / Math.max(MAX_SAMPLES - 1, 1);
    var x0 = right - (samples.length - 1) * step;
    var px = function (k) { return x0 + k * step; };
    var py = function (ms) { return bottom - (bottom - top) * ms / max; };

    if (demo.upgradeAtSample !== null && demo.upgradeAtSample >= 0) {
      var ux = px(demo.upgradeAtSample) - step / 2;
      ctx.strokeStyle = '#2563eb';
      ctx.setLineDash([4, 4]);
      ctx.beginPath(); ctx.moveTo(ux, top); ctx.lineTo(ux, bottom); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#2563eb';
      ctx.fillText('upgrade', ux + 4, top + 10);
    }

    ctx.strokeStyle = '#98a2b3';
    ctx.beginPath();
    samples.forEach(function (s, k) {
      if (k === 0) ctx.moveTo(px(k), py(s.ms)); else ctx.lineTo(px(k), py(s.ms));
    });
    ctx.stroke();
    samples.forEach(function (s, k) {
      ctx.fillStyle = s.transport === 'websocket' ? '#2563eb' : '#d97706';
      ctx.beginPath(); ctx.arc(px(k), py(s.ms), 3, 0, 2 * Math.PI); ctx.fill();
    });

    var ly = h - 12;
    ctx.fillStyle = '#d97706'; ctx.fillRect(right - 150, ly, 8, 8);
    ctx.fillStyle = '#667085'; ctx.fillText('polling', right - 138, ly + 8);
    ctx.fillStyle = '#2563eb'; ctx.fillRect(right - 80, ly, 8, 8);
    ctx.fillStyle = '#667085'; ctx.fillText('websocket', right - 68, ly + 8);
  }

  function niceCeil(v) {
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 4, 6, 8, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }

  // -- chat and binary ------------------------------------------------------------
  function addChatLine(name, text, cls) {
    var li = document.createElement('li');
    if (cls) li.className = cls;
    if (name) {
      var who = document.createElement('span');
      who.className = 'who';
      who.textContent = name + ': ';
      li.appendChild(who);
    }
    li.appendChild(document.createTextNode(text));
    $('messages').appendChild(li);
    $('messages').scrollTop = $('messages').scrollHeight;
  }

  function sendChat(text) {
    if (!socket || socket.readyState !== 'open' || !text) return false;
    myName = $('name').value.trim() || myName;
    socket.send(JSON.stringify({type: 'chat', name: myName, text: text}));
    return true;
  }

  function sendBinary() {
    if (!socket || socket.readyState !== 'open') return false;
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    binaryPending = bytes;
    socket.send(bytes);
    $('binary-result').textContent = 'sent 16 bytes…';
    return true;
  }

  function onBinary(buffer) {
    var got = new Uint8Array(buffer);
    var same = binaryPending !== null && got.length === binaryPending.length &&
      got.every(function (b, i) { return b === binaryPending[i]; });
    if (same) demo.binaryEchoes += 1;
    $('binary-result').textContent = same
      ? 'echoed back intact as binary over ' + socket.transport + ' (' + got.length + ' bytes)'
      : 'unexpected binary message (' + got.length + ' bytes)';
  }

  demo.sendChat = sendChat;
  demo.sendBinary = sendBinary;

  $('chat-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (sendChat($('text').value.trim())) $('text').value = '';
  });
  $('binary').addEventListener('click', sendBinary);
  $('reconnect').addEventListener('click', function () {
    if (socket) socket.close();
    clearInterval(probeTimer);
    connect();
  });
  window.addEventListener('resize', draw);

  draw();
  connect();
})();
