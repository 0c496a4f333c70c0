/**
 * Time limits on the launcher's own HTTP connections, which Deno's server does not have: a new
 * connection must send its first request's headers within `header_timeout`, and a connection
 * may idle between requests for `keepalive_timeout`. Without them any client could hold
 * descriptors for ever, by opening connections and sending nothing or a header a byte at a
 * time, until the launcher can accept no more.
 *
 * The server gives JavaScript no handle on a connection, so the guard keeps one record per
 * peer (`host:port`), which the request handler updates (a request began, its answer was
 * sent, it became a WebSocket), and every so often reads the process's socket table: a
 * connection with no request in flight that has been idle too long is shut down. Upgraded
 * connections (proxied WebSockets) are never touched: Deno pings those and closes dead ones.
 *
 * When descriptors run short (90% of the limit in use), connections that have not sent a
 * request yet are shut down at once, the newest first: they cost an attacker nothing, and a
 * launcher that cannot accept cannot be reached even by its own health check.
 *
 * A connection whose answer its client stopped reading ({@linkcode ConnectionGuard.cut}, told
 * by the answer's stall guard) is shut down at the next sweep, busy as it is.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type AcceptedConnection, peerKey, type SocketTable } from "../os/mod.ts";

/** How the guard is set up. */
export interface ConnectionGuardOptions {
  /** Reads and shuts the process's connections. */
  table: SocketTable;
  /** How long a new connection may take to send its first request's headers, in ms. */
  headerTimeoutMs: number;
  /** How long a connection may idle between requests, in ms. */
  keepAliveTimeoutMs: number;
  /** A monotonic clock in ms. @default performance.now */
  now?: () => number;
  /** Share of the descriptor limit in use above which unused connections are shed. @default 0.9 */
  pressure?: number;
}

/** Why the guard closed connections, and how many. */
export interface GuardCounts {
  /** No request's headers within `header_timeout`. */
  headerTimeout: number;
  /** Idle between requests for `keepalive_timeout`. */
  keepAliveTimeout: number;
  /** Shed while descriptors ran short. */
  shed: number;
  /** Cut: its client stopped reading its answer. */
  cut: number;
}

/** What a sweep found. */
export interface SweepResult extends GuardCounts {
  /** Descriptors open. */
  descriptors: number;
  /** The soft descriptor limit. */
  limit: number;
}

/** What the guard knows of one connection. */
interface ConnectionState {
  /** The socket's cookie, once a sweep has seen it. */
  id?: string;
  /** When it was first seen. */
  opened: number;
  /** Requests being answered. */
  inFlight: number;
  /** When the last answer was sent. */
  lastDone?: number;
  /** Whether it became a WebSocket. */
  upgraded: boolean;
  /** Whether its client stopped reading an answer: it is shut down at the next sweep. */
  cut?: boolean;
}

/** What the server tells the handler about a request. */
export interface ServedRequest {
  /** The peer. */
  remoteAddr: Deno.NetAddr;
  /** Settles once the answer has been sent (or failed). */
  completed: Promise<void>;
}

const logger = () => getLogger(["pvw-launcher", "connections"]);

/** Enforces the header and keep-alive timeouts on the launcher's connections. */
export class ConnectionGuard {
  readonly #table: SocketTable;
  readonly #headerMs: number;
  readonly #keepAliveMs: number;
  readonly #now: () => number;
  readonly #pressure: number;
  readonly #ports = new Set<number>();
  readonly #states = new Map<string, ConnectionState>();
  readonly #counts: GuardCounts = { headerTimeout: 0, keepAliveTimeout: 0, shed: 0, cut: 0 };
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes the guard; {@linkcode ConnectionGuard.start} starts its sweeps.
   *
   * @param options the socket table and the timeouts
   */
  constructor(options: ConnectionGuardOptions) {
    this.#table = options.table;
    this.#headerMs = options.headerTimeoutMs;
    this.#keepAliveMs = options.keepAliveTimeoutMs;
    this.#now = options.now ?? (() => performance.now());
    this.#pressure = options.pressure ?? 0.9;
  }

  /** How often to sweep: a quarter of the shorter timeout, from 50 ms to 1 s. */
  get intervalMs(): number {
    return Math.min(1000, Math.max(50, Math.min(this.#headerMs, this.#keepAliveMs) / 4));
  }

  /** Connections closed since the start, by reason. */
  get counts(): Readonly<GuardCounts> {
    return this.#counts;
  }

  /** Descriptors open now, and the limit. */
  get descriptors(): { open: number; limit: number } {
    return { open: this.#table.open(), limit: this.#table.limit() };
  }

  /**
   * Watches connections accepted on a port.
   *
   * @param port a listener's local port
   */
  watch(port: number): void {
    this.#ports.add(port);
  }

  /** Starts sweeping every {@linkcode ConnectionGuard.intervalMs}. */
  start(): void {
    this.#timer ??= setInterval(() => {
      try {
        this.sweep();
      } catch (err) {
        logger().error("cannot check the connections: {error}", { error: String(err) });
      }
    }, this.intervalMs);
  }

  /** Stops sweeping. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Serves a request, noting that its connection is busy until the answer is sent, and that
   * it is a WebSocket from then on when the answer is an upgrade (101).
   *
   * @param request what the server says of the request
   * @param respond makes the answer
   * @returns the answer
   */
  async serve(request: ServedRequest, respond: () => Promise<Response>): Promise<Response> {
    const key = peerKey(request.remoteAddr);
    let state = this.#states.get(key);
    if (!state || state.upgraded) {
      // A WebSocket sends no more requests: this is a new connection from the same address.
      state = { opened: this.#now(), inFlight: 0, upgraded: false };
      this.#states.set(key, state);
    }
    const current = state;
    current.inFlight++;
    const done = () => {
      current.inFlight = Math.max(0, current.inFlight - 1);
      current.lastDone = this.#now();
    };
    request.completed.then(done, done);
    const answer = await respond();
    if (answer.status === 101) current.upgraded = true;
    return answer;
  }

  /**
   * Shuts a peer's connection down at the next sweep, whatever it is doing: its client stopped
   * reading an answer.
   *
   * @param peer the client
   */
  cut(peer: Deno.NetAddr): void {
    const state = this.#states.get(peerKey(peer));
    if (state) state.cut = true;
  }

  /**
   * Closes the connections that waited too long, and sheds unused ones while descriptors run
   * short. Called by the timer; public for tests.
   *
   * @returns what it found and did
   */
  sweep(): SweepResult {
    const now = this.#now();
    const { connections, descriptors } = this.#table.scan(this.#ports);
    const limit = this.#table.limit();
    const result: SweepResult = {
      headerTimeout: 0,
      keepAliveTimeout: 0,
      shed: 0,
      cut: 0,
      descriptors,
      limit,
    };
    const unused: [AcceptedConnection, ConnectionState][] = [];
    const seen = new Set<string>();
    for (const conn of connections) {
      seen.add(conn.peer);
      const state = this.#stateOf(conn, now);
      if (state.cut) {
        if (this.#table.shutdown(conn)) result.cut++;
        continue;
      }
      if (state.upgraded || state.inFlight > 0) continue;
      const fresh = state.lastDone === undefined;
      const idle = now - (state.lastDone ?? state.opened);
      if (idle >= (fresh ? this.#headerMs : this.#keepAliveMs)) {
        if (this.#table.shutdown(conn)) result[fresh ? "headerTimeout" : "keepAliveTimeout"]++;
      } else if (fresh) unused.push([conn, state]);
    }
    for (const [key, state] of this.#states) {
      if (!seen.has(key) && state.inFlight === 0) this.#states.delete(key);
    }
    result.shed = this.#shed(unused, result, descriptors, limit);
    this.#count(result);
    return result;
  }

  #stateOf(conn: AcceptedConnection, now: number): ConnectionState {
    let state = this.#states.get(conn.peer);
    if (!state) {
      state = { id: conn.id, opened: now, inFlight: 0, upgraded: false };
      this.#states.set(conn.peer, state);
    } else if (state.id === undefined) {
      state.id = conn.id;
    } else if (state.id !== conn.id) {
      // The peer's address was reused by a new connection: start its record over.
      Object.assign(state, {
        id: conn.id,
        opened: now,
        lastDone: undefined,
        upgraded: false,
        cut: false,
      });
    }
    return state;
  }

  /** Sheds unused connections, newest first, until use falls below the pressure mark. */
  #shed(
    unused: [AcceptedConnection, ConnectionState][],
    closed: GuardCounts,
    descriptors: number,
    limit: number,
  ): number {
    let open = descriptors - closed.headerTimeout - closed.keepAliveTimeout - closed.cut;
    const mark = Math.floor(limit * this.#pressure);
    if (open < mark) return 0;
    // Below the mark, with room to spare: accepting again would otherwise fill it at once.
    const target = Math.floor(limit * (this.#pressure - 0.1));
    // Newest first: by when a sweep first saw them, then by cookie (given out in order).
    unused.sort((a, b) => b[1].opened - a[1].opened || Number(b[0].id) - Number(a[0].id));
    let shed = 0;
    for (const [conn] of unused) {
      if (open <= target) break;
      if (this.#table.shutdown(conn)) {
        shed++;
        open--;
      }
    }
    return shed;
  }

  #count(result: SweepResult): void {
    this.#counts.headerTimeout += result.headerTimeout;
    this.#counts.keepAliveTimeout += result.keepAliveTimeout;
    this.#counts.shed += result.shed;
    this.#counts.cut += result.cut;
    if (result.shed > 0) {
      logger().warn(
        "{open} of {limit} descriptors in use: closed {shed} connections that had sent no request",
        { open: result.descriptors, limit: result.limit, shed: result.shed },
      );
    }
    if (result.headerTimeout + result.keepAliveTimeout > 0) {
      logger().debug("closed {header} connections that sent no request in time, {idle} idle ones", {
        header: result.headerTimeout,
        idle: result.keepAliveTimeout,
      });
    }
  }
}
