// The orders dashboard: wires the api, the change stream, the table, the
// form and the notifications panel.
//
// Consistency: the table is a snapshot from GET /api/orders plus every
// change after it. The snapshot is taken after the relay's first hello (or
// taken again when a first hello arrives late), changes that arrive while a
// snapshot loads are buffered and applied on top of it, and the store keeps
// only the newest state of each row, so nothing is lost or applied twice.

import * as api from './js/api.js';
import { getToken, askToken, onTokenChange } from './js/auth.js';
import { ChangeStream } from './js/stream.js';
import { OrderStore, STATUSES } from './js/store.js';
import { OrdersTable } from './js/table.js';
import { Notifications } from './js/notifications.js';
import { cap } from './js/format.js';

const $ = (id) => document.getElementById(id);
const PAGE = 500;
const INITIAL_ROWS = 1000;
const FIRST_HELLO_WAIT_MS = 1500;
const SORT_DEFAULT_DIR = { id: -1, created_at: -1, updated_at: -1 };

const store = new OrderStore();
let filter = '';
let nextLink = null;
let buffer = null;       // changes received while a snapshot loads
let loadSeq = 0;         // the current snapshot load; older ones give up
let loadRetry = 0;
let snapshotTaken = false;
let loadedOnce = false;  // a snapshot has been shown (until then: "Loading…")
let config = {};

/* ---------------------------------------------------------------- table */

const table = new OrdersTable({
  tbody: $('orders-body'),
  store,
  onRendered: renderCounts,
  onStatus: async (id, status) => {
    try {
      applyLocal(await api.updateOrder(id, { status }), 'UPDATE');
    } catch (err) {
      toast(`Order ${id}: ${err.message}`);
      throw err;
    }
  },
  onSave: async (id, fields) => {
    applyLocal(await api.updateOrder(id, fields), 'UPDATE');
  },
  onDelete: confirmDelete,
});

function renderCounts({ visible }) {
  if (!loadedOnce) { $('row-count').textContent = '–'; return; }
  const what = filter ? `${filter} order` : 'order';
  $('row-count').textContent = `${visible.toLocaleString()} ${what}${visible === 1 ? '' : 's'}${nextLink ? ' loaded' : ''}`;
  $('table-empty').hidden = visible > 0;
  const n = visible.toLocaleString();
  $('foot-info').textContent = nextLink ? `Showing the newest ${n}; older ones on request.`
    : `Showing all ${n}, updated live.`;
  const counts = store.counts();
  const frag = document.createDocumentFragment();
  for (const s of STATUSES) {
    if (filter && s !== filter) continue;
    const chip = document.createElement('span');
    chip.className = `chip pill-${s}`;
    chip.dataset.status = s;
    chip.innerHTML = '<span class="chip-n"></span> <span class="chip-l"></span>';
    chip.firstChild.textContent = counts[s].toLocaleString();
    chip.lastChild.textContent = s;
    frag.append(chip);
  }
  $('status-summary').replaceChildren(frag);
}

/** Apply a relay message (or a synthetic one for our own writes). */
function applyChange(msg) {
  if (buffer) { buffer.push(msg); return; }
  const d = msg.data;
  const id = Number(d.id);
  if (d.operation === 'TRUNCATE') {
    // every order is gone: so is every row we show, and what paging held
    store.clear();
    nextLink = null;
    $('load-more').hidden = true;
    table.resetFromStore();
  } else if (d.operation === 'DELETE') {
    if (store.remove(id)) table.markDirty(id, 'delete');
  } else if (store.upsert(d)) {
    table.markDirty(id, d.operation === 'INSERT' ? 'insert' : 'update');
  }
}

/** Our own successful write: show it now, even if the relay is slow or down. */
function applyLocal(order, operation) {
  if (order && order.id != null) applyChange({ data: { ...order, operation } });
}

async function loadTable(doneMessage = '') {
  const mine = ++loadSeq;
  clearTimeout(loadRetry);
  snapshotTaken = true;
  $('table-loading').hidden = loadedOnce;
  $('load-more').hidden = true;
  try {
    // Changes from before the first request are in the snapshot anyway.
    buffer = [];
    const rows = [];
    let url = null;
    let next = null;
    do {
      // eslint-disable-next-line no-await-in-loop
      const page = await api.listOrders({ status: filter, limit: PAGE, url });
      if (mine !== loadSeq) return;
      rows.push(...page.orders);
      next = page.next;
      url = next;
    } while (next && rows.length < INITIAL_ROWS);
    store.clear();
    for (const r of rows) store.upsert(r);
    nextLink = next;
    const pending = buffer;
    buffer = null;
    for (const msg of pending) applyChange(msg);
    loadedOnce = true;
    table.resetFromStore();
    $('table-loading').hidden = true;
    $('load-more').hidden = !nextLink;
    setTableMessage(doneMessage);
  } catch (err) {
    if (mine !== loadSeq) return;
    $('table-loading').hidden = true;
    setTableMessage(`Could not load orders: ${err.message}. Retrying…`);
    loadRetry = setTimeout(() => loadTable(doneMessage), err.status === 401 || err.status === 403 ? 15000 : 3000);
  }
}

async function loadMore() {
  if (!nextLink || buffer) return;
  const btn = $('load-more');
  btn.disabled = true;
  const mine = loadSeq;
  try {
    const page = await api.listOrders({ url: nextLink });
    // a reload (filter, resync, token) started meanwhile: this page belongs
    // to the old snapshot and must not mix into the new one
    if (mine !== loadSeq || buffer) return;
    for (const r of page.orders) if (store.upsert(r)) table.markDirty(Number(r.id));
    nextLink = page.next;
    btn.hidden = !nextLink;
    table.schedule();
  } catch (err) {
    toast(`Could not load more orders: ${err.message}`);
  } finally {
    btn.disabled = false;
  }
}

function setTableMessage(text) { $('table-message').textContent = text; }

/* ---------------------------------------------------------------- filter and sort */

function readUrlState() {
  const q = new URLSearchParams(location.search);
  const st = q.get('status');
  if (st && STATUSES.includes(st)) filter = st;
  const sort = q.get('sort');
  if (sort) {
    const key = sort.replace(/^-/, '');
    if (document.querySelector(`th[data-sort="${CSS.escape(key)}"]`)) {
      table.setSort(key, sort.startsWith('-') ? -1 : 1);
    }
  }
}

function writeUrlState() {
  const q = new URLSearchParams(location.search);
  if (filter) q.set('status', filter); else q.delete('status');
  const sort = `${table.sortDir < 0 ? '-' : ''}${table.sortKey}`;
  if (sort !== '-id') q.set('sort', sort); else q.delete('sort');
  const s = q.toString();
  history.replaceState(null, '', s ? `?${s}` : location.pathname);
}

function showSort() {
  for (const th of document.querySelectorAll('th[data-sort]')) {
    const on = th.dataset.sort === table.sortKey;
    th.setAttribute('aria-sort', on ? (table.sortDir < 0 ? 'descending' : 'ascending') : 'none');
  }
}

function showFilter() {
  $('filter-status').value = filter;
  $('orders-heading').textContent = filter ? `${cap(filter)} orders` : 'All orders';
}

$('filter-status').addEventListener('change', (e) => {
  filter = e.target.value;
  showFilter();
  writeUrlState();
  table.setFilter(filter);
  loadTable();
});

document.querySelector('#orders-table thead').addEventListener('click', (e) => {
  const th = e.target.closest('th[data-sort]');
  if (!th || !e.target.closest('button')) return;
  const key = th.dataset.sort;
  const dir = key === table.sortKey ? -table.sortDir : (SORT_DEFAULT_DIR[key] || 1);
  table.setSort(key, dir);
  showSort();
  writeUrlState();
});

$('load-more').addEventListener('click', loadMore);

/* ---------------------------------------------------------------- create form */

const form = $('create-form');

function clearFormErrors() {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

form.addEventListener('input', (e) => {
  const el = e.target;
  if (el.getAttribute('aria-invalid')) {
    el.removeAttribute('aria-invalid');
    const err = form.querySelector(`.field-error[data-field="${CSS.escape(el.name)}"]`);
    if (err) err.textContent = '';
  }
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  clearFormErrors();
  const msg = $('create-message');
  msg.textContent = '';
  msg.className = 'form-message';
  const fields = {
    customer_name: form.elements.customer_name.value,
    product_name: form.elements.product_name.value,
    status: form.elements.status.value,
  };
  const submit = $('create-submit');
  submit.disabled = true;
  try {
    const order = await api.createOrder(fields);
    applyLocal(order, 'INSERT');
    form.reset();
    msg.textContent = `Order #${order.id} created.`;
    msg.classList.add('ok');
    form.elements.customer_name.focus();
  } catch (err) {
    const input = err.field && form.elements[err.field];
    const slot = err.field && form.querySelector(`.field-error[data-field="${CSS.escape(err.field)}"]`);
    if (input && slot) {
      slot.textContent = api.fieldMessage(err);
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    } else {
      msg.textContent = err.message;
      msg.classList.add('bad');
    }
  } finally {
    submit.disabled = false;
  }
});

/* ---------------------------------------------------------------- delete */

function confirmDelete(id, button) {
  const row = store.get(id);
  if (!row) return;
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = `Delete order #${id}?`;
  $('confirm-text').textContent = `${row.customer_name} · ${row.product_name} (${row.status}). This cannot be undone.`;
  dialog.returnValue = '';
  dialog.addEventListener('close', async () => {
    if (dialog.returnValue !== 'confirm') {
      if (button.isConnected) button.focus();
      return;
    }
    table.focusNear(id);
    try {
      applyLocal(await api.deleteOrder(id), 'DELETE');
    } catch (err) {
      if (err.status === 404) applyLocal({ id }, 'DELETE');
      else toast(`Could not delete order ${id}: ${err.message}`);
    }
  }, { once: true });
  dialog.showModal();
  $('confirm-cancel').focus();
}

/* ---------------------------------------------------------------- toast */

let toastTimer = 0;
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}
$('toast').addEventListener('click', () => { $('toast').hidden = true; });

/* ---------------------------------------------------------------- connection */

const notes = new Notifications({
  list: $('notifications'),
  empty: $('notif-empty'),
  announcer: $('announcer'),
  clear: $('notif-clear'),
});

const LABEL = {
  connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', closed: 'Stopped',
};
let countdown = 0;

function showState(state, info) {
  const conn = $('conn');
  conn.dataset.state = state;
  const label = $('conn-label');
  if (label.textContent !== LABEL[state]) label.textContent = LABEL[state] || state;
  $('conn-retry').hidden = !(state === 'reconnecting' || state === 'offline');
  clearInterval(countdown);
  const detail = $('conn-detail');
  if (state === 'reconnecting' || state === 'offline') {
    const tick = () => {
      const s = Math.max(0, Math.ceil((info.retryAt - Date.now()) / 1000));
      detail.textContent = `${info.reason || 'disconnected'}${s > 0 ? ` · retry in ${s}s` : ' · retrying'}`;
    };
    tick();
    countdown = setInterval(tick, 1000);
  } else {
    detail.textContent = '';
  }
  conn.title = state === 'live' && info.server
    ? `Connected to ${info.server}${stream.transport === 'sse' ? ' (Server-Sent Events)' : ''}` : '';
  conn.dataset.transport = stream.transport;
  // The tab tells a person with many tabs whether this one is still live.
  document.title = state === 'live' ? 'Orders · live' : `Orders · ${(LABEL[state] || state).replace('…', '').toLowerCase()}`;
}

let helloResolve;
const firstHello = new Promise((r) => { helloResolve = r; });

const stream = new ChangeStream({
  baseUrl: relayUrl,
  token: getToken,
  onState: showState,
  onSeq: (seq) => { $('last-seq').textContent = String(seq); },
  onLag: (behind) => {
    // "live", or how far this page still is behind while it catches up
    if (stream.state !== 'live') return;
    $('conn-label').textContent = behind > 0 ? `${behind} behind` : LABEL.live;
  },
  onHello: ({ fresh }) => {
    helloResolve();
    // The first hello fixes the seq the table must be consistent with; a
    // snapshot taken before it (relay was down at start) is taken again.
    if (fresh && snapshotTaken) loadTable();
  },
  onChange: (msg) => {
    notes.push(msg);
    applyChange(msg);
  },
  onResync: (msg) => {
    const why = msg && msg.reason === 'epoch_changed'
      ? 'The change history was replaced (a restore or a reset)'
      : 'Change history was truncated';
    setTableMessage(`${why}; reloading…`);
    loadTable(`${why}, so the table was reloaded.`);
  },
});

function relayUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = config.relay_url;
  // A path (RELAY_PUBLIC_URL=/ws behind the nginx front): the stream is on
  // the page's own origin, ws: or wss: as the page itself.
  if (url && url.startsWith('/')) return `${proto}//${location.host}${url}`;
  if (url) return url;
  const port = Number(config.ws_port) || 8080;
  return `${proto}//${location.hostname}:${port}/`;
}

$('conn-retry').addEventListener('click', () => stream.retryNow());
$('token-button').addEventListener('click', () => askToken({ force: true }));
if (getToken()) $('token-button').hidden = false;
onTokenChange(() => {
  stream.reconnect();
  if (buffer !== null) loadTable();
});
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') stream.retryNow();
});

/* ---------------------------------------------------------------- start */

async function main() {
  readUrlState();
  showFilter();
  showSort();
  table.setFilter(filter);
  config = await api.getConfig();
  stream.start();
  await Promise.race([firstHello, new Promise((r) => { setTimeout(r, FIRST_HELLO_WAIT_MS); })]);
  await loadTable();
}

// For tests and the curious: read-only state.
window.ordersDashboard = {
  get lastSeq() { return stream.lastSeq; },
  get state() { return stream.state; },
  get transport() { return stream.transport; },
  get behind() { return stream.behind(); },
  get rows() { return store.size; },
  get loading() { return buffer !== null; },
  get renderStats() { return { ...table.stats }; },
};

main();
