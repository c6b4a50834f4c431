// The change stream (CONTRACT section 5) as a small state machine.
//
//   connecting   --hello-->          live
//   live         --close/error/stall--> reconnecting (retry after backoff)
//   reconnecting --hello-->          live
//   reconnecting --MAX_QUIET failures or browser offline--> offline (still retrying)
//   any          --stop()-->         closed
//
// Every (re)connection after the first hello asks for since=<last seq>, so the
// relay replays what was missed; events at or below the last seq are dropped
// as duplicates. A missing heartbeat (2.5 x the heartbeat interval, measured
// from the gap between heartbeats; two minutes until known) closes a stalled
// socket.
//
// Transport: WebSocket first. When a WebSocket cannot even open while the
// relay answers plain HTTP (a proxy that strips Upgrade), the stream moves to
// Server-Sent Events on the relay's /events (EventSource), with the same
// messages and the same since/epoch resumption.

const DEFAULT_HEARTBEAT_MS = 30000;
const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 15000;
const OFFLINE_AFTER_FAILURES = 6;

export class ChangeStream {
  /**
   * @param {object} o
   * @param {() => string} o.baseUrl   relay URL without since/access_token
   * @param {() => string} o.token     access token or ''
   * @param {(ev) => void} o.onChange  order_change messages, in seq order, no duplicates
   * @param {(info) => void} o.onHello {seq, fresh}: fresh = no since was sent
   * @param {(msg) => void} o.onResync resync messages (reload the table)
   * @param {(state, info) => void} o.onState
   * @param {(seq) => void} o.onSeq    last seq changed
   * @param {(behind) => void} [o.onLag] events between the last seq and the relay's head
   */
  constructor(o) {
    this.o = o;
    this.ws = null;
    this.state = 'idle';
    this.lastSeq = null;
    this.epoch = null; // the history lastSeq belongs to; a resume in another gets resync
    this.head = null; // the relay's last seq as it last said (hello, heartbeat, resync)
    this.transport = 'ws'; // or 'sse' once WebSockets proved blocked
    this.opened = false; // the current connection got through its handshake
    this.failures = 0;
    this.retryTimer = 0;
    this.watchdog = 0;
    this.retryAt = 0;
    this.heartbeatMs = DEFAULT_HEARTBEAT_MS;
    this.lastHeartbeat = 0;
    this.measured = false; // heartbeatMs learned from two heartbeats (kept across reconnects)
    this.stopped = false;
    this.everLive = false;
    this.onOnline = () => this.retryNow();
    this.onOffline = () => { if (this.state !== 'live') this.setState('offline'); };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    if (this.ws) { this.detach(this.ws); this.ws.close(1000); this.ws = null; }
    this.setState('closed');
  }

  /** Skip the backoff wait (user pressed "Retry now", browser came online). */
  retryNow() {
    if (this.stopped || this.ws) return; // connected, or an attempt is in flight
    clearTimeout(this.retryTimer);
    this.connect();
  }

  /** Use a new token: reconnect with it. */
  reconnect() {
    if (this.stopped) return;
    if (this.ws) { this.detach(this.ws); this.ws.close(1000); this.ws = null; }
    clearTimeout(this.retryTimer);
    this.connect();
  }

  setState(state, info = {}) {
    this.state = state;
    this.o.onState(state, info);
  }

  url(sse = false) {
    const u = new URL(this.o.baseUrl());
    if (sse) {
      // ws://relay:8080/ -> http://relay:8080/events; wss://site/ws -> https://site/events
      u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
      u.pathname = u.pathname.replace(/\/(ws)?$/, '') + '/events';
    }
    if (this.lastSeq != null) {
      u.searchParams.set('since', String(this.lastSeq));
      if (this.epoch) u.searchParams.set('epoch', this.epoch);
    }
    const t = this.o.token();
    if (t) u.searchParams.set('access_token', t);
    return u.toString();
  }

  connect() {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    if (this.ws) { this.detach(this.ws); this.ws.close(1000); this.ws = null; }
    if (this.state !== 'reconnecting' && this.state !== 'offline') this.setState('connecting');
    this.sentSince = this.lastSeq;
    this.opened = false;
    if (this.transport === 'sse') {
      this.connectSse();
    } else {
      let ws;
      try {
        ws = new WebSocket(this.url());
      } catch (e) {
        this.fail(`bad relay URL: ${e.message}`);
        return;
      }
      this.ws = ws;
      ws.onopen = () => { this.opened = true; };
      ws.onmessage = (m) => this.message(m);
      ws.onclose = (e) => this.closed(ws, e);
      ws.onerror = () => { /* a close event follows */ };
    }
    // The handshake itself must not hang forever either.
    this.armWatchdog(Math.min(this.heartbeatMs, 10000));
  }

  connectSse() {
    let es;
    try {
      es = new EventSource(this.url(true));
    } catch (e) {
      this.fail(`bad relay URL: ${e.message}`);
      return;
    }
    this.ws = es;
    es.onopen = () => { this.opened = true; };
    for (const type of ['hello', 'order_change', 'heartbeat', 'resync']) {
      es.addEventListener(type, (m) => { if (es === this.ws) this.message(m); });
    }
    // `event: error` from the relay (slow consumer, shutdown) carries data;
    // a transport error does not. Either way the stream reconnects itself
    // with since/epoch rather than by EventSource's own retry.
    es.addEventListener('error', (m) => {
      if (es !== this.ws) return;
      let info = {};
      try { info = m.data ? JSON.parse(m.data) : {}; } catch { /* keep {} */ }
      this.closed(es, { code: info.code || 0, reason: info.reason || '' });
    });
  }

  detach(ws) {
    if (typeof EventSource !== 'undefined' && ws instanceof EventSource) {
      ws.close(); // stops its own reconnects; its listeners check this.ws
      return;
    }
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  /** A WebSocket that never opened: is the relay up over plain HTTP? Then
   * something on the way drops WebSockets, and SSE is the way through. */
  async probeHttp() {
    if (typeof EventSource === 'undefined' || typeof fetch === 'undefined') return false;
    try {
      const u = new URL(this.url(true));
      u.pathname = u.pathname.replace(/events$/, 'health');
      u.search = '';
      await fetch(u.toString(), { mode: 'no-cors', cache: 'no-store' });
      return true;
    } catch {
      return false;
    }
  }

  armWatchdog(ms) {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.stalled(), ms);
  }

  // How long silence may last before the connection counts as stalled:
  // 2.5 heartbeats once the interval is known; until then at least two
  // minutes, so a relay with a long PING_INTERVAL is not taken for a stall.
  watchdogMs() {
    const ms = 2.5 * this.heartbeatMs;
    return this.measured ? Math.max(ms, 1000) : Math.max(ms, 120000);
  }

  stalled() {
    const ws = this.ws;
    if (!ws) return;
    this.detach(ws);
    try { ws.close(4000, 'heartbeat missed'); } catch { /* ignore */ }
    this.ws = null;
    this.fail(this.state === 'live' ? 'no heartbeat from the relay' : 'the relay did not answer');
  }

  message(m) {
    let msg;
    try { msg = JSON.parse(m.data); } catch { return; }
    if (!msg || typeof msg !== 'object') return;
    this.armWatchdog(this.watchdogMs());
    switch (msg.type) {
      case 'hello': {
        const fresh = this.sentSince == null;
        this.opened = true;
        if (Number.isFinite(msg.seq)) this.setHead(msg.seq);
        if (fresh && Number.isFinite(msg.seq)) this.setSeq(msg.seq);
        if (!this.epoch && typeof msg.epoch === 'string') this.epoch = msg.epoch;
        this.failures = 0;
        this.everLive = true;
        this.lastHeartbeat = 0;
        this.setState('live', { server: msg.server });
        this.o.onHello({ seq: msg.seq, fresh });
        break;
      }
      case 'order_change':
        if (!Number.isFinite(msg.seq) || !msg.data) return;
        if (this.lastSeq != null && msg.seq <= this.lastSeq) return; // duplicate after a resume
        this.setSeq(msg.seq);
        this.o.onChange(msg);
        break;
      case 'heartbeat': {
        if (Number.isFinite(msg.seq)) this.setHead(msg.seq);
        const now = performance.now();
        if (this.lastHeartbeat) {
          const gap = now - this.lastHeartbeat;
          if (gap > 100) { this.heartbeatMs = gap; this.measured = true; }
          this.armWatchdog(this.watchdogMs());
        }
        this.lastHeartbeat = now;
        break;
      }
      case 'resync':
        if (Number.isFinite(msg.seq)) { this.setHead(msg.seq); this.setSeq(msg.seq, true); }
        if (typeof msg.epoch === 'string') this.epoch = msg.epoch;
        this.o.onResync(msg);
        break;
      default:
        break;
    }
  }

  setSeq(seq, force = false) {
    if (force || this.lastSeq == null || seq > this.lastSeq) {
      this.lastSeq = seq;
      this.o.onSeq(seq);
      this.reportLag();
    }
  }

  setHead(seq) {
    if (this.head == null || seq > this.head || seq < (this.lastSeq ?? 0)) this.head = seq;
    this.reportLag();
  }

  /** Events between what this page has and the relay's head (0 when live). */
  behind() {
    if (this.head == null || this.lastSeq == null) return 0;
    return Math.max(0, this.head - this.lastSeq);
  }

  reportLag() {
    if (this.o.onLag) this.o.onLag(this.behind());
  }

  closed(ws, e) {
    if (ws !== this.ws) return;
    this.detach(ws);
    this.ws = null;
    if (this.transport === 'ws' && !this.opened && !this.stopped) {
      // never got through the handshake: if the relay answers HTTP, take SSE
      this.probeHttp().then((up) => {
        if (up && this.transport === 'ws') {
          this.transport = 'sse';
          if (!this.ws && !this.stopped) { clearTimeout(this.retryTimer); this.connect(); }
        }
      });
    }
    let why = 'connection lost';
    if (e.code === 1008) why = e.reason || 'closed by the relay (policy)';
    else if (e.reason) why = e.reason;
    else if (!this.everLive) why = 'cannot reach the relay';
    this.fail(why);
  }

  fail(reason) {
    clearTimeout(this.watchdog);
    if (this.stopped) return;
    this.failures += 1;
    // Capped exponential backoff with jitter; the first retry is quick.
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** (this.failures - 1));
    const delay = Math.round(base / 2 + Math.random() * base / 2);
    this.retryAt = Date.now() + delay;
    const offline = (typeof navigator !== 'undefined' && navigator.onLine === false)
      || this.failures >= OFFLINE_AFTER_FAILURES;
    this.setState(offline ? 'offline' : 'reconnecting', { reason, retryAt: this.retryAt, failures: this.failures });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
