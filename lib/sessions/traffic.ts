/**
 * Per-session proxy counters: open connections, bytes each way and the time of the last
 * frame. The session table reads them to show activity and to reap idle sessions.
 *
 * @module
 */

/** What the proxy saw of one session. */
export interface TrafficSnapshot {
  /** Connections open through the proxy now. */
  connections: number;
  /** Connections opened since the session started. */
  connectionsTotal: number;
  /** Bytes sent from clients to the session. */
  bytesToSession: number;
  /** Bytes sent from the session to clients. */
  bytesFromSession: number;
  /** When the last connection opened or closed or the last frame passed, ms since the epoch. */
  lastActivityAt: number;
}

/** Counters of one session's proxied traffic. */
export class Traffic {
  #connections = 0;
  #connectionsTotal = 0;
  #toSession = 0;
  #fromSession = 0;
  #lastActivityAt: number;
  #now: () => number;

  /**
   * Starts counting.
   *
   * @param now wall clock in ms since the epoch
   */
  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#lastActivityAt = now();
  }

  /** Counts a connection that opened. */
  opened(): void {
    this.#connections++;
    this.#connectionsTotal++;
    this.#lastActivityAt = this.#now();
  }

  /** Counts a connection that closed. */
  closed(): void {
    this.#connections--;
    this.#lastActivityAt = this.#now();
  }

  /** Counts bytes from a client to the session. @param bytes how many */
  toSession(bytes: number): void {
    this.#toSession += bytes;
    this.#lastActivityAt = this.#now();
  }

  /** Counts bytes from the session to a client. @param bytes how many */
  fromSession(bytes: number): void {
    this.#fromSession += bytes;
    this.#lastActivityAt = this.#now();
  }

  /** Connections open now. */
  get connections(): number {
    return this.#connections;
  }

  /** When anything last happened, in ms since the epoch. */
  get lastActivityAt(): number {
    return this.#lastActivityAt;
  }

  /** The counters as plain data. */
  snapshot(): TrafficSnapshot {
    return {
      connections: this.#connections,
      connectionsTotal: this.#connectionsTotal,
      bytesToSession: this.#toSession,
      bytesFromSession: this.#fromSession,
      lastActivityAt: this.#lastActivityAt,
    };
  }
}
