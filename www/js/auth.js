// Access token: asked for once when the api answers 401, kept in
// sessionStorage (this tab only), sent as "Authorization: Bearer" to the api
// and as ?access_token= to the relay (CONTRACT section 6).

const KEY = 'orders.token';
const TOKEN_RE = /^[A-Za-z0-9._~-]{16,256}$/;

let pending = null;       // the open dialog's promise, shared by concurrent 401s
let declined = false;     // the user cancelled: do not pop the dialog again by itself
const listeners = new Set();

export function getToken() {
  try { return sessionStorage.getItem(KEY) || ''; } catch { return ''; }
}

function setToken(t) {
  try {
    if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY);
  } catch { /* storage disabled: keep going without persistence */ }
  for (const fn of listeners) fn(t);
}

/** Called with the new token whenever it changes. */
export function onTokenChange(fn) { listeners.add(fn); }

/**
 * Ask for a token. Resolves to the token, or '' if the user cancelled.
 * `rejected` says the current token was refused, so the text says so.
 * With `force` false, a user who already cancelled is not asked again.
 */
export function askToken({ rejected = false, force = false } = {}) {
  if (pending) return pending;
  if (declined && !force) return Promise.resolve('');
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const error = document.getElementById('token-error');
  const text = document.getElementById('token-text');
  text.textContent = rejected
    ? 'The token was not accepted. Enter a valid access token; it is kept for this browser tab only.'
    : 'The server asks for an access token. It is kept for this browser tab only.';
  input.value = '';
  error.textContent = '';
  input.removeAttribute('aria-invalid');
  document.getElementById('token-button').hidden = false;

  pending = new Promise((resolve) => {
    const cancel = document.getElementById('token-cancel');
    const onCancel = () => dialog.close('cancel');
    const onSubmit = (ev) => {
      const t = input.value.trim();
      if (!TOKEN_RE.test(t)) {
        ev.preventDefault();
        error.textContent = 'A token is 16 to 256 characters of A-Z a-z 0-9 . _ ~ -';
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
    };
    const onClose = () => {
      form.removeEventListener('submit', onSubmit);
      cancel.removeEventListener('click', onCancel);
      dialog.removeEventListener('close', onClose);
      pending = null;
      const t = input.value.trim();
      input.value = '';
      if (dialog.returnValue === 'ok' && TOKEN_RE.test(t)) {
        declined = false;
        setToken(t);
        resolve(t);
      } else {
        declined = true;
        resolve('');
      }
    };
    form.addEventListener('submit', onSubmit);
    cancel.addEventListener('click', onCancel);
    dialog.addEventListener('close', onClose);
    dialog.returnValue = '';
    dialog.showModal();
    input.focus();
  });
  return pending;
}

export function forgetToken() { setToken(''); }
