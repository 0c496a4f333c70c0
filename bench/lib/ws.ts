/**
 * The WebSocket client of the proxy scenarios, the same whether it talks to the app
 * directly, through pvw-launcher's proxy, or through Apache.
 *
 * @module
 */

/**
 * Opens a WebSocket; `client` (one that trusts a test CA) for `wss://`.
 *
 * @throws Error when it fails or is not open after `ms`
 */
export function openWs(url: string, ms = 20_000, client?: Deno.HttpClient): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, client ? { client } : undefined);
    ws.binaryType = "arraybuffer";
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`${url}: not open after ${ms} ms`));
    }, ms);
    ws.onopen = () => {
      clearTimeout(timer);
      ws.onerror = null;
      ws.onclose = null;
      resolve(ws);
    };
    ws.onerror = ws.onclose = () => {
      clearTimeout(timer);
      reject(new Error(`${url}: could not connect`));
    };
  });
}

/** Closes a WebSocket and waits (at most 5 s) for the close to complete. */
export function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    ws.onclose = () => {
      clearTimeout(timer);
      resolve();
    };
    ws.onerror = () => {};
    if (ws.readyState !== WebSocket.CLOSING) ws.close();
  });
}

/**
 * Sends `payload` and waits for its echo, `n` times in a row.
 *
 * @returns each round trip, in ms
 * @throws Error when an echo differs or the socket closes
 */
export async function echoRoundTrips(
  ws: WebSocket,
  payload: Uint8Array<ArrayBuffer>,
  n: number,
): Promise<number[]> {
  const samples: number[] = [];
  let waiting: ((data: unknown) => void) | undefined;
  let failed: ((err: Error) => void) | undefined;
  ws.onmessage = (e) => waiting?.(e.data);
  ws.onclose = () => failed?.(new Error("the socket closed during the echo test"));
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const data = await new Promise<unknown>((resolve, reject) => {
      waiting = resolve;
      failed = reject;
      ws.send(payload);
    });
    samples.push(performance.now() - t0);
    if (!(data instanceof ArrayBuffer) || data.byteLength !== payload.byteLength) {
      throw new Error("the echo differs from what was sent");
    }
  }
  ws.onmessage = ws.onclose = null;
  return samples;
}

/**
 * Receives 1 MiB binary frames from the app for `ms`, asking for one more as each arrives
 * (`window` in flight), then waits for those in flight.
 *
 * @returns bytes received and the time they took, in ms
 */
export function receiveStream(
  ws: WebSocket,
  ms: number,
  window = 8,
): Promise<{ bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let inFlight = window;
    const t0 = performance.now();
    const end = t0 + ms;
    ws.onmessage = (e: MessageEvent<ArrayBuffer | string>) => {
      if (typeof e.data === "string") return;
      bytes += e.data.byteLength;
      inFlight--;
      if (performance.now() < end) {
        inFlight++;
        ws.send("more 1");
      } else if (inFlight === 0) {
        ws.onmessage = ws.onclose = null;
        resolve({ bytes, ms: performance.now() - t0 });
      }
    };
    ws.onclose = (e) =>
      reject(new Error(`the socket closed during the stream (${e.code} ${e.reason})`));
    ws.send(`more ${window}`);
  });
}
