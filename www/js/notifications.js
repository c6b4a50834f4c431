// The "Live changes" panel: newest first, capped, rendered once per frame.
// Screen readers get a calm summary through a separate polite live region
// (at most one announcement every few seconds) instead of every event.

import { formatTime, fullTime } from './format.js';

const CAP = 50;
const ANNOUNCE_EVERY_MS = 4000;
const FIELD_LABEL = { status: 'status', customer_name: 'customer', product_name: 'product' };
const OP = {
  INSERT: { cls: 'op-insert', label: 'Created' },
  UPDATE: { cls: 'op-update', label: 'Updated' },
  DELETE: { cls: 'op-delete', label: 'Deleted' },
  TRUNCATE: { cls: 'op-delete', label: 'Truncated' },
};

export class Notifications {
  constructor({ list, empty, announcer, clear }) {
    this.list = list;
    this.empty = empty;
    this.announcer = announcer;
    this.pending = [];
    this.frame = 0;
    this.unannounced = [];
    this.announceTimer = 0;
    clear.addEventListener('click', () => {
      this.pending = [];
      this.list.replaceChildren();
      this.empty.hidden = false;
    });
  }

  /** msg: a relay order_change message. */
  push(msg) {
    this.pending.push(msg);
    if (this.pending.length > CAP) this.pending.splice(0, this.pending.length - CAP);
    this.unannounced.push(msg);
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
    if (!this.announceTimer) this.announceTimer = setTimeout(() => this.announce(), ANNOUNCE_EVERY_MS / 4);
  }

  flush() {
    this.frame = 0;
    const frag = document.createDocumentFragment();
    for (let i = this.pending.length - 1; i >= 0; i -= 1) frag.append(this.item(this.pending[i]));
    this.pending = [];
    this.list.prepend(frag);
    while (this.list.childElementCount > CAP) this.list.lastElementChild.remove();
    this.empty.hidden = this.list.childElementCount > 0;
  }

  item(msg) {
    const d = msg.data;
    const op = OP[d.operation] || { cls: '', label: d.operation };
    const li = document.createElement('li');
    li.className = `notif ${op.cls}`;
    li.dataset.seq = String(msg.seq);
    li.dataset.id = d.id == null ? '' : String(d.id);
    li.dataset.operation = d.operation;

    const head = document.createElement('div');
    head.className = 'notif-head';
    const badge = document.createElement('span');
    badge.className = 'op-badge';
    badge.textContent = op.label;
    const title = document.createElement('span');
    title.className = 'notif-title';
    if (d.operation === 'TRUNCATE') {
      title.textContent = 'Every order removed';
    } else {
      const num = document.createElement('span');
      num.className = 'notif-id';
      num.textContent = `#${d.id}`;
      title.append(num, ` ${d.customer_name}`);
    }
    const when = document.createElement('time');
    const at = msg.timestamp || d.updated_at;
    when.dateTime = at || '';
    when.textContent = formatTime(at);
    when.title = `${fullTime(at)} · seq ${msg.seq}`;
    head.append(badge, title, when);
    li.append(head);

    const detail = document.createElement('div');
    detail.className = 'notif-detail';
    const product = document.createElement('div');
    product.className = 'notif-product';
    product.textContent = d.product_name;
    if (d.operation === 'TRUNCATE') {
      detail.append('the orders table was emptied (TRUNCATE)');
    } else if (d.operation === 'UPDATE') {
      const old = msg.old || {};
      const keys = Object.keys(old).filter((k) => k in FIELD_LABEL);
      if (!keys.includes('product_name')) detail.append(product);
      if (!keys.length) detail.append('saved without changes');
      for (const k of keys) {
        const line = document.createElement('div');
        line.className = 'change';
        line.dataset.field = k;
        const name = document.createElement('span');
        name.className = 'change-field';
        name.textContent = FIELD_LABEL[k];
        const from = document.createElement('span');
        from.className = k === 'status' ? `old pill pill-${old[k]}` : 'old';
        from.textContent = String(old[k]);
        const arrow = document.createElement('span');
        arrow.className = 'arrow';
        arrow.textContent = ' → ';
        arrow.setAttribute('aria-label', 'changed to');
        const to = document.createElement('span');
        to.className = k === 'status' ? `new pill pill-${d[k]}` : 'new';
        to.textContent = String(d[k]);
        line.append(name, ' ', from, arrow, to);
        detail.append(line);
      }
    } else {
      const pill = document.createElement('span');
      pill.className = `pill pill-${d.status}`;
      pill.textContent = d.status;
      product.append(' ', pill);
      detail.append(product);
    }
    li.append(detail);
    return li;
  }

  announce() {
    this.announceTimer = 0;
    const batch = this.unannounced;
    this.unannounced = [];
    if (!batch.length) return;
    let text;
    if (batch.length === 1) {
      const d = batch[0].data;
      text = d.operation === 'TRUNCATE' ? 'Every order removed'
        : `Order ${d.id} ${(OP[d.operation] || { label: d.operation }).label.toLowerCase()}`;
      if (d.operation === 'UPDATE' && batch[0].old && batch[0].old.status) text += `: ${batch[0].old.status} to ${d.status}`;
    } else {
      text = `${batch.length} order changes`;
    }
    this.announcer.textContent = text;
    this.announceTimer = setTimeout(() => this.announce(), ANNOUNCE_EVERY_MS);
  }
}
