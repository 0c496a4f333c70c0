/**
 * Server-sent events for the dashboard: every open page gets the whole state when it connects
 * and again whenever it changes, and a comment line every 15 s so that proxies keep the
 * connection open.
 *
 * Change detection is a poll, not a web of hooks: while at least one page is connected, one
 * timer (1 s) takes the state and compares it with the last one sent; the session table, the
 * proxy counters and the failures ring stay unaware of the dashboard. The composition root
 * also calls {@linkcode DashboardEvents.changed} when a launch ends or a session stops, so
 * those show at once. With no page connected there is no timer at all.
 *
 * @example
 * ```ts ignore
 * const events = new DashboardEvents(readState);
 * const res = new Response(events.open(), { headers: { "content-type": "text/event-stream" } });
 * events.close(); // at shutdown: every stream ends
 * ```
 *
 * @module
 */

import { type DashboardState, serializeState } from "./state.ts";

/** Timing of the event stream. */
export interface DashboardEventsOptions {
  /** How often the state is compared while a page is connected, in ms. @default 1000 */
  intervalMs?: number;
  /** Longest silence before a comment line is sent, in ms. @default 15000 */
  heartbeatMs?: number;
  /** Chunks a slow page may have queued before it is dropped. @default 64 */
  maxQueued?: number;
}

type Client = ReadableStreamDefaultController<Uint8Array>;

const encoder = new TextEncoder();

/** Pushes the dashboard's state to every connected page. */
export class DashboardEvents {
  readonly #read: () => DashboardState;
  readonly #intervalMs: number;
  readonly #heartbeatTicks: number;
  readonly #maxQueued: number;
  readonly #clients = new Set<Client>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = "";
  #quietTicks = 0;
  #pending = false;
  #closed = false;

  /**
   * Makes the hub; nothing runs until a page connects.
   *
   * @param read takes the state now
   * @param options timing
   */
  constructor(read: () => DashboardState, options: DashboardEventsOptions = {}) {
    this.#read = read;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#heartbeatTicks = Math.max(
      1,
      Math.round((options.heartbeatMs ?? 15_000) / this.#intervalMs),
    );
    this.#maxQueued = options.maxQueued ?? 64;
  }

  /** How many pages are connected. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * Opens a stream for one page: the state at once, then every change. It ends when the page
   * goes (the stream is cancelled) or at {@linkcode close}.
   *
   * @returns the `text/event-stream` body
   */
  open(): ReadableStream<Uint8Array> {
    let self: Client | undefined;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        if (this.#closed) return controller.close();
        self = controller;
        const { json, fingerprint } = serializeState(this.#read());
        controller.enqueue(encoder.encode(`retry: 3000\n${stateEvent(json)}`));
        if (this.#clients.size === 0) this.#last = fingerprint;
        this.#clients.add(controller);
        this.#timer ??= setInterval(() => this.#tick(true), this.#intervalMs);
      },
      cancel: () => {
        if (self) this.#drop(self);
      },
    });
  }

  /** Says the state may have changed: connected pages are updated right away if it did. */
  changed(): void {
    if (this.#clients.size === 0 || this.#pending) return;
    this.#pending = true;
    queueMicrotask(() => {
      this.#pending = false;
      if (this.#clients.size > 0) this.#tick(false);
    });
  }

  /** Ends every stream and stops the timer; later pages get a stream that ends at once. */
  close(): void {
    this.#closed = true;
    for (const client of this.#clients) {
      try {
        client.close();
      } catch {
        // already errored
      }
    }
    this.#clients.clear();
    this.#stopTimer();
  }

  #tick(timed: boolean): void {
    const { json, fingerprint } = serializeState(this.#read());
    if (fingerprint !== this.#last) {
      this.#last = fingerprint;
      this.#broadcast(stateEvent(json));
    } else if (timed && ++this.#quietTicks >= this.#heartbeatTicks) {
      this.#broadcast(": heartbeat\n\n");
    }
  }

  #broadcast(text: string): void {
    this.#quietTicks = 0;
    const chunk = encoder.encode(text);
    for (const client of this.#clients) {
      // A page that stopped reading would make its queue grow without end: drop it.
      if ((client.desiredSize ?? 0) < -this.#maxQueued) {
        client.error(new Error("the page does not read its events"));
        this.#drop(client);
        continue;
      }
      client.enqueue(chunk);
    }
  }

  #drop(client: Client): void {
    this.#clients.delete(client);
    if (this.#clients.size === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function stateEvent(json: string): string {
  return `event: state\ndata: ${json}\n\n`;
}
