// The orders table. Changes are only marked here (markDirty); the DOM is
// touched once per animation frame, however many changes arrived, so 50
// changes/s over 1 000 rows costs a few small writes per frame. Rows are
// reused and reordered in place (no re-render of the whole body).

import { STATUSES } from './store.js';
import { formatTime, fullTime } from './format.js';
import { fieldMessage } from './api.js';

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
const STATUS_RANK = Object.fromEntries(STATUSES.map((s, i) => [s, i]));
const DELETE_FADE_MS = 900;

const COMPARE = {
  id: (a, b) => a.id - b.id,
  customer_name: (a, b) => collator.compare(a.customer_name, b.customer_name) || b.id - a.id,
  product_name: (a, b) => collator.compare(a.product_name, b.product_name) || b.id - a.id,
  status: (a, b) => (STATUS_RANK[a.status] ?? 99) - (STATUS_RANK[b.status] ?? 99) || b.id - a.id,
  created_at: (a, b) => a._created - b._created || a.id - b.id,
  updated_at: (a, b) => a._updated - b._updated || a.id - b.id,
};

const ICON_EDIT = '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M13.6 3.6a2 2 0 0 1 2.8 2.8l-8.7 8.7-3.7.9.9-3.7z"/></svg>';
const ICON_SAVE = '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M4 10.5l4 4 8-9"/></svg>';
const ICON_CANCEL = '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M5 5l10 10M15 5L5 15"/></svg>';
const ICON_DELETE = '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M4 6h12M8 6V4h4v2m-6 0 .8 10h6.4L14 6"/></svg>';

function rowTemplate() {
  const t = document.createElement('template');
  const opts = STATUSES.map((s) => `<option value="${s}">${s[0].toUpperCase()}${s.slice(1)}</option>`).join('');
  t.innerHTML = `<tr role="row">
    <td role="cell" class="c-id"></td>
    <td role="cell" class="c-customer"><span class="cell-text"></span></td>
    <td role="cell" class="c-product"><span class="cell-text"></span></td>
    <td role="cell" class="c-status"><select class="status-select">${opts}</select></td>
    <td role="cell" class="c-created"><time></time></td>
    <td role="cell" class="c-updated"><time></time></td>
    <td role="cell" class="c-actions"><span class="row-actions">
      <button type="button" class="btn-icon" data-action="edit">${ICON_EDIT}</button>
      <button type="button" class="btn-icon btn-icon-danger" data-action="delete">${ICON_DELETE}</button>
    </span></td>
  </tr>`;
  return t.content.firstElementChild;
}

export class OrdersTable {
  /**
   * @param {object} o
   * @param {HTMLTableSectionElement} o.tbody
   * @param {import('./store.js').OrderStore} o.store
   * @param {(info:{visible:number,total:number}) => void} o.onRendered
   * @param {(id:number, fields:object) => Promise<void>} o.onSave   throws ApiError
   * @param {(id:number, status:string) => Promise<void>} o.onStatus throws ApiError
   * @param {(id:number, button:HTMLElement) => void} o.onDelete
   */
  constructor(o) {
    this.o = o;
    this.tbody = o.tbody;
    this.store = o.store;
    this.trs = new Map();           // id -> <tr>
    this.dirty = new Map();         // id -> flash kind ('' for none)
    this.needsSort = true;
    this.frame = 0;
    this.stats = { flushes: 0, maxMs: 0, totalMs: 0 };
    this.filter = '';
    this.sortKey = 'id';
    this.sortDir = -1;
    this.proto = rowTemplate();
    this.flashColors = {};
    this.readColors();
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => this.readColors());
    this.tbody.addEventListener('click', (e) => this.click(e));
    this.tbody.addEventListener('change', (e) => this.change(e));
    this.tbody.addEventListener('keydown', (e) => this.keydown(e));
    // Rows scrolled out of view are skipped by content-visibility: flashing
    // them would only cost style work nobody sees.
    this.tbody.addEventListener('contentvisibilityautostatechange', (e) => {
      e.target._skipped = e.skipped;
    }, true);
  }

  readColors() {
    const cs = getComputedStyle(document.documentElement);
    for (const k of ['insert', 'update', 'delete']) {
      this.flashColors[k] = cs.getPropertyValue(`--flash-${k}`).trim() || 'rgba(250, 204, 21, .35)';
    }
  }

  visible(row) { return !this.filter || row.status === this.filter; }

  setFilter(status) {
    this.filter = status;
    this.needsSort = true;
    for (const id of this.store.rows.keys()) this.dirty.set(id, this.dirty.get(id) || '');
    this.schedule();
  }

  setSort(key, dir) {
    this.sortKey = key;
    this.sortDir = dir;
    this.needsSort = true;
    this.schedule();
  }

  /** A row changed in the store (or vanished from it). */
  markDirty(id, flash = '') {
    const prev = this.dirty.get(id);
    this.dirty.set(id, flash || prev || '');
    if (flash === 'insert' || flash === 'delete' || !this.trs.has(id)) this.needsSort = true;
    else if (this.sortKey !== 'id') this.needsSort = true;
    this.schedule();
  }

  /** The store was replaced (snapshot): drop rows no longer in it, render the rest. */
  resetFromStore() {
    for (const [id, tr] of this.trs) {
      if (!this.store.get(id)) { tr.remove(); this.trs.delete(id); }
    }
    for (const id of this.store.rows.keys()) this.dirty.set(id, this.dirty.get(id) || '');
    this.needsSort = true;
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    const t0 = performance.now();
    this.frame = 0;
    const active = document.activeElement;
    const flashes = [];
    for (const [id, flash] of this.dirty) {
      const row = this.store.get(id);
      let tr = this.trs.get(id);
      if (!row || !this.visible(row)) {
        if (tr && tr.dataset.state !== 'deleted') {
          if (flash === 'delete') {
            this.fadeOut(id, tr);
          } else {
            tr.remove();
            this.trs.delete(id);
          }
        }
        continue;
      }
      if (!tr) {
        tr = this.create(row);
        this.trs.set(id, tr);
        this.needsSort = true;
      } else {
        this.fill(tr, row);
      }
      if (flash && flash !== 'delete') flashes.push([tr, flash]);
    }
    this.dirty.clear();

    if (this.needsSort) {
      this.needsSort = false;
      this.reorder();
    }
    for (const [tr, kind] of flashes) this.flash(tr, kind);
    if (active && active !== document.activeElement && active.isConnected) {
      active.focus({ preventScroll: true });
    }
    let shown = 0;
    for (const tr of this.trs.values()) if (tr.dataset.state !== 'deleted') shown += 1;
    this.o.onRendered({ visible: shown, total: this.store.size });
    const ms = performance.now() - t0;
    this.stats.flushes += 1;
    this.stats.totalMs += ms;
    if (ms > this.stats.maxMs) this.stats.maxMs = ms;
  }

  reorder() {
    const cmp = COMPARE[this.sortKey] || COMPARE.id;
    const dir = this.sortDir;
    const rows = [];
    for (const [id, tr] of this.trs) {
      if (tr.dataset.state === 'deleted') continue;
      const row = this.store.get(id);
      if (row) rows.push(row);
    }
    rows.sort((a, b) => dir * cmp(a, b));
    let cursor = this.tbody.firstElementChild;
    for (const row of rows) {
      const tr = this.trs.get(row.id);
      while (cursor && cursor.dataset.state === 'deleted') cursor = cursor.nextElementSibling;
      if (cursor === tr) {
        cursor = cursor.nextElementSibling;
      } else {
        this.tbody.insertBefore(tr, cursor);
      }
    }
  }

  create(row) {
    const tr = this.proto.cloneNode(true);
    tr.dataset.id = String(row.id);
    const sel = tr.querySelector('.status-select');
    sel.setAttribute('aria-label', `Status of order ${row.id}`);
    const [edit, del] = tr.querySelectorAll('.row-actions button');
    edit.setAttribute('aria-label', `Edit order ${row.id}`);
    edit.title = 'Edit names';
    del.setAttribute('aria-label', `Delete order ${row.id}`);
    del.title = 'Delete';
    tr.cells[0].textContent = String(row.id);
    this.fill(tr, row);
    return tr;
  }

  fill(tr, row) {
    const c = tr.cells;
    tr.dataset.status = row.status;
    if (tr.dataset.editing !== '1') {
      setText(c[1].firstElementChild, row.customer_name, true);
      setText(c[2].firstElementChild, row.product_name, true);
    }
    const sel = c[3].firstElementChild;
    if (sel.value !== row.status && !sel.dataset.busy) sel.value = row.status;
    if (sel.dataset.status !== row.status && !sel.dataset.busy) sel.dataset.status = row.status;
    setTime(c[4].firstElementChild, row.created_at);
    setTime(c[5].firstElementChild, row.updated_at);
  }

  flash(tr, kind) {
    if (tr._skipped) return;
    tr.dataset.flash = kind;
    const color = this.flashColors[kind];
    if (tr._anim) tr._anim.cancel();
    if (typeof tr.animate !== 'function') return;
    tr._anim = tr.animate(
      [{ backgroundColor: color }, { backgroundColor: color, offset: 0.25 }, { backgroundColor: 'transparent' }],
      { duration: 2200, easing: 'ease-out' },
    );
    tr._anim.onfinish = () => { tr._anim = null; delete tr.dataset.flash; };
  }

  fadeOut(id, tr) {
    tr.dataset.state = 'deleted';
    tr.dataset.flash = 'delete';
    tr.setAttribute('aria-hidden', 'true');
    for (const el of tr.querySelectorAll('button, select, input')) el.disabled = true;
    if (tr._anim) tr._anim.cancel();
    const done = () => {
      if (this.trs.get(id) === tr) this.trs.delete(id);
      tr.remove();
    };
    if (typeof tr.animate !== 'function') { done(); return; }
    const color = this.flashColors.delete;
    tr._anim = tr.animate(
      [{ backgroundColor: color, opacity: 1 }, { backgroundColor: color, opacity: 0.2 }],
      { duration: DELETE_FADE_MS, easing: 'ease-in', fill: 'forwards' },
    );
    tr._anim.onfinish = done;
    tr._anim.oncancel = done;
  }

  /* ---- interaction: status select, inline edit, delete ---- */

  rowOf(el) {
    const tr = el.closest('tr[data-id]');
    return tr ? { tr, id: Number(tr.dataset.id) } : null;
  }

  click(e) {
    const btn = e.target.closest('button[data-action]');
    if (!btn || btn.disabled) return;
    const r = this.rowOf(btn);
    if (!r) return;
    switch (btn.dataset.action) {
      case 'edit': this.startEdit(r.tr, r.id); break;
      case 'delete': this.o.onDelete(r.id, btn); break;
      case 'save': this.saveEdit(r.tr, r.id); break;
      case 'cancel': this.endEdit(r.tr, r.id, true); break;
      default: break;
    }
  }

  async change(e) {
    const sel = e.target;
    if (!sel.classList.contains('status-select')) return;
    const r = this.rowOf(sel);
    if (!r) return;
    const row = this.store.get(r.id);
    const wanted = sel.value;
    if (!row || row.status === wanted) return;
    sel.dataset.busy = '1';
    sel.dataset.status = wanted;
    sel.setAttribute('aria-busy', 'true');
    try {
      await this.o.onStatus(r.id, wanted);
    } catch (err) {
      sel.title = err.message;
    } finally {
      delete sel.dataset.busy;
      sel.removeAttribute('aria-busy');
      const now = this.store.get(r.id);
      if (now) { sel.value = now.status; sel.dataset.status = now.status; }
    }
  }

  keydown(e) {
    const input = e.target;
    if (!input.classList || !input.classList.contains('edit-input')) return;
    const r = this.rowOf(input);
    if (!r) return;
    if (e.key === 'Enter') { e.preventDefault(); this.saveEdit(r.tr, r.id); }
    if (e.key === 'Escape') { e.preventDefault(); this.endEdit(r.tr, r.id, true); }
  }

  startEdit(tr, id) {
    const row = this.store.get(id);
    if (!row || tr.dataset.editing === '1') return;
    tr.dataset.editing = '1';
    for (const [cell, field, label] of [[tr.cells[1], 'customer_name', 'Customer'], [tr.cells[2], 'product_name', 'Product']]) {
      const errId = `edit-${id}-${field}-error`;
      cell.innerHTML = '';
      const input = document.createElement('input');
      input.className = 'edit-input';
      input.name = field;
      input.value = row[field];
      // what the field held when editing began: only fields the user
      // changed are sent, so a rename by someone else meanwhile survives
      input.dataset.original = row[field];
      input.setAttribute('aria-label', `${label} of order ${id}`);
      input.setAttribute('aria-describedby', errId);
      const err = document.createElement('p');
      err.className = 'field-error';
      err.id = errId;
      err.dataset.field = field;
      cell.append(input, err);
    }
    const actions = tr.cells[6].firstElementChild;
    actions.innerHTML = `<button type="button" class="btn-icon btn-icon-save" data-action="save" aria-label="Save order ${id}" title="Save (Enter)">${ICON_SAVE}</button>`
      + `<button type="button" class="btn-icon" data-action="cancel" aria-label="Cancel editing order ${id}" title="Cancel (Esc)">${ICON_CANCEL}</button>`;
    tr.cells[1].querySelector('input').focus();
  }

  async saveEdit(tr, id) {
    const row = this.store.get(id);
    if (!row) return;
    const fields = {};
    for (const input of tr.querySelectorAll('.edit-input')) {
      if (input.value !== input.dataset.original) fields[input.name] = input.value;
      input.removeAttribute('aria-invalid');
      input.nextElementSibling.textContent = '';
    }
    if (!Object.keys(fields).length) { this.endEdit(tr, id, true); return; }
    const save = tr.querySelector('[data-action="save"]');
    save.disabled = true;
    try {
      await this.o.onSave(id, fields);
      this.endEdit(tr, id, true);
    } catch (err) {
      save.disabled = false;
      const input = err.field && tr.querySelector(`.edit-input[name="${CSS.escape(err.field)}"]`);
      const target = input || tr.querySelector('.edit-input');
      if (input) input.setAttribute('aria-invalid', 'true');
      target.nextElementSibling.textContent = input ? fieldMessage(err) : err.message;
      target.focus();
    }
  }

  endEdit(tr, id, refocus) {
    if (tr.dataset.editing !== '1') return;
    delete tr.dataset.editing;
    for (const cell of [tr.cells[1], tr.cells[2]]) {
      cell.innerHTML = '<span class="cell-text"></span>';
    }
    const actions = tr.cells[6].firstElementChild;
    actions.innerHTML = '';
    const fresh = this.proto.cloneNode(true).cells[6].firstElementChild;
    actions.append(...fresh.childNodes);
    const [edit, del] = actions.querySelectorAll('button');
    edit.setAttribute('aria-label', `Edit order ${id}`);
    edit.title = 'Edit names';
    del.setAttribute('aria-label', `Delete order ${id}`);
    del.title = 'Delete';
    const row = this.store.get(id);
    if (row) this.fill(tr, row);
    if (refocus && tr.isConnected) edit.focus();
  }

  /** Focus something sensible near a row that is going away. */
  focusNear(id) {
    const tr = this.trs.get(id);
    let next = tr && (tr.nextElementSibling || tr.previousElementSibling);
    while (next && next.dataset.state === 'deleted') next = next.nextElementSibling;
    const target = next && next.querySelector('[data-action="delete"]');
    if (target) target.focus(); else document.getElementById('orders-table-wrap').focus();
  }
}

function setText(el, text, withTitle) {
  if (el.textContent !== text) {
    el.textContent = text;
    if (withTitle) el.title = text;
  }
}

function setTime(el, iso) {
  if (el.dateTime === (iso || '')) return;
  el.dateTime = iso || '';
  el.textContent = formatTime(iso);
  el.title = fullTime(iso);
}
