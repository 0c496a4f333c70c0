/**
 * A minimal wslink 1.x client for tests, speaking what ParaView 5.11's web server (wslink 1.x)
 * speaks: every message is a JSON text frame `{"wslink": "1.0", id, method, args, kwargs}`,
 * answered by `{"wslink": "1.0", id, "result": ...}` or `{..., "error": {code, message}}`.
 * The first message is `wslink.hello` with the secret, under the id `system:c0:0`; the answer
 * carries the client id that later RPC ids carry (`rpc:<clientID>:<n>`).
 *
 * @module
 */

import { opened, WslinkConnection, WslinkError } from "./wslink_client.ts";

export { WslinkError };

/** A connected wslink 1.x client. */
export class Wslink1Client extends WslinkConnection<unknown> {
  private constructor(socket: WebSocket) {
    super(socket, 30_000);
  }

  /**
   * Opens a WebSocket to `url`.
   *
   * @throws Error when the socket closes before it opens (e.g. a 502 answer), or after `ms`
   */
  static open(url: string, ms = 10_000): Promise<Wslink1Client> {
    return opened(new Wslink1Client(new WebSocket(url)), url, ms);
  }

  protected transmit(message: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(message));
  }

  protected receive(data: unknown): void {
    // Binary frames are wslink 1.x attachments, which the calls made here never ask for.
    if (typeof data !== "string") return;
    this.settle(JSON.parse(data));
  }
}
