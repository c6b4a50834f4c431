// The orders the page knows about, keyed by id. Applying the same change
// twice, or an older change after a newer snapshot, leaves the newest state:
// ids are never reused, so a deleted id stays deleted (tombstones), and a row
// is only replaced by one with the same or a later updated_at.

export const STATUSES = ['pending', 'processing', 'shipped', 'delivered', 'cancelled'];

// updated_at in microseconds, as PostgreSQL keeps it: Date.parse stops at
// milliseconds, and two writes within one millisecond must still order.
function stamp(o) {
  const s = String(o.updated_at ?? '');
  const t = Date.parse(s);
  if (!Number.isFinite(t)) return 0;
  const frac = /\.(\d+)/.exec(s);
  const micros = frac ? Number((frac[1] + '000000').slice(3, 6)) : 0;
  return t * 1000 + micros;
}

export class OrderStore {
  constructor() {
    this.rows = new Map();
    this.deleted = new Set();
  }

  clear() { this.rows.clear(); }

  get size() { return this.rows.size; }
  get(id) { return this.rows.get(id); }
  values() { return this.rows.values(); }

  /** Insert or update from a snapshot, an api answer or an event. Returns true if applied. */
  upsert(order) {
    const id = Number(order.id);
    if (!Number.isFinite(id) || this.deleted.has(id)) return false;
    const cur = this.rows.get(id);
    if (cur && stamp(cur) > stamp(order)) return false;
    const row = {
      id,
      customer_name: String(order.customer_name ?? ''),
      product_name: String(order.product_name ?? ''),
      status: String(order.status ?? ''),
      created_at: order.created_at ?? (cur && cur.created_at) ?? null,
      updated_at: order.updated_at ?? null,
    };
    row._created = Date.parse(row.created_at) || 0;
    row._updated = Date.parse(row.updated_at) || 0;
    this.rows.set(id, row);
    return true;
  }

  /** Returns the removed row (or undefined). */
  remove(id) {
    id = Number(id);
    this.deleted.add(id);
    const cur = this.rows.get(id);
    this.rows.delete(id);
    return cur;
  }

  counts() {
    const c = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    for (const r of this.rows.values()) if (r.status in c) c[r.status] += 1;
    return c;
  }

  minId() {
    let m = Infinity;
    for (const id of this.rows.keys()) if (id < m) m = id;
    return m === Infinity ? null : m;
  }
}
