// One request of the pin queue: the status, the body if it is JSON (undefined when it is
// not: a captive portal's page, a proxy's error), Retry-After; a request that hangs is
// cut after REQUEST_TIMEOUT and counts as a network failure (it throws).

const REQUEST_TIMEOUT = 15000;

export async function fetchJson(url, options = {}) {
  const abort = new AbortController();
  const timer = window.setTimeout(() => abort.abort(), REQUEST_TIMEOUT);
  try {
    const response = await fetch(url, { ...options, signal: abort.signal });
    const body = response.status === 204 ? null : await response.text();
    let json;
    try {
      json = body ? JSON.parse(body) : null;
    } catch (error) {
      json = undefined; // not JSON: a captive portal's page, a proxy's error
    }
    return { status: response.status, json, retryAfter: Number(response.headers.get("Retry-After")) };
  } finally {
    window.clearTimeout(timer);
  }
}
