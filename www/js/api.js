// The REST API (CONTRACT section 4): fetch wrappers that return parsed JSON
// or throw ApiError carrying the api's {"error","code","field"}.

import { getToken, askToken } from './auth.js';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    const b = body && typeof body === 'object' ? body : {};
    super(b.error || fallback || `request failed (HTTP ${status})`);
    this.status = status;
    this.code = b.code || (status ? `http_${status}` : 'network');
    this.field = b.field || null;
  }
}

async function request(method, url, body, { authRetry = true } = {}) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new ApiError(0, null, 'cannot reach the server');
  }
  if (res.status === 401 && authRetry) {
    const t = await askToken({ rejected: !!token });
    if (t) return request(method, url, body, { authRetry: false });
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    if (res.status === 403 && !(data && data.error)) {
      throw new ApiError(403, data, 'this token may not do that');
    }
    throw new ApiError(res.status, data);
  }
  return { data, res };
}

/** The target of a `Link: <url>; rel="next"` header, or null. */
export function parseNextLink(header) {
  if (!header) return null;
  for (const part of header.split(',')) {
    const m = /<([^>]*)>\s*;(.*)/.exec(part.trim());
    if (m && /rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?/i.test(m[2])) return m[1];
  }
  return null;
}

/**
 * One page of orders, newest first. Pass either {status, limit, beforeId}
 * or {url} (a next link). Returns {orders, next}.
 */
export async function listOrders({ status = '', limit = 500, beforeId = null, url = null } = {}) {
  let target = url;
  if (!target) {
    const q = new URLSearchParams();
    if (status) q.set('status', status);
    q.set('limit', String(limit));
    if (beforeId != null) q.set('before_id', String(beforeId));
    target = `/api/orders?${q}`;
  }
  const { data, res } = await request('GET', target);
  if (!Array.isArray(data)) throw new ApiError(res.status, null, 'unexpected answer from the server');
  return { orders: data, next: parseNextLink(res.headers.get('Link')) };
}

export async function createOrder(fields) {
  return (await request('POST', '/api/orders', fields)).data;
}

export async function updateOrder(id, fields) {
  return (await request('PUT', `/api/orders/${encodeURIComponent(id)}`, fields)).data;
}

export async function deleteOrder(id) {
  return (await request('DELETE', `/api/orders/${encodeURIComponent(id)}`)).data;
}

/** {relay_url, ws_port}; falls back to the contract's defaults. */
export async function getConfig() {
  try {
    const { data } = await request('GET', '/api/config');
    return data && typeof data === 'object' ? data : {};
  } catch {
    return {};
  }
}

/** The error text to show next to its field: "customer_name: must not be empty" -> "Must not be empty". */
export function fieldMessage(err) {
  let m = String(err.message || '');
  if (err.field && m.startsWith(`${err.field}: `)) m = m.slice(err.field.length + 2);
  return m ? m[0].toUpperCase() + m.slice(1) : m;
}
