/**
 * A bound on how long an answer may wait for its reader. Deno's server pulls an answer's body
 * only as fast as the client takes it: a client that asks for a large file and never reads
 * holds its connection, the file and their descriptors for ever, and while the answer is in
 * flight no idle timeout applies to the connection. A body guarded here is abandoned (the
 * connection is closed) once its reader has taken nothing for a while, although the next
 * bytes were ready: a slow reader is served, a reader that stopped is not waited for. A body
 * whose own source is slow (a session's server-sent events) is not affected: while the next
 * bytes are awaited from it, the reader is not the one waiting.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";

/** The reader of an answer took nothing for too long. */
export class StalledReaderError extends Error {
  /**
   * Makes the error.
   *
   * @param ms how long the reader took nothing
   */
  constructor(ms: number) {
    super(`the client took nothing of the answer for ${ms / 1000} s; it was abandoned`);
    this.name = "StalledReaderError";
  }
}

/**
 * Wraps an answer's body so that it is abandoned when its reader stalls: `abandon` is told,
 * and ends the connection if it can (the stream then waits for the server to cancel it; an
 * error would be written to stderr by Deno's server). When it cannot, the stream errors,
 * which ends the connection too.
 *
 * @param body the answer's body
 * @param ms how long the reader may take nothing while the next bytes are ready
 * @param abandon told of the stall; whether it ended the connection
 * @returns the guarded body
 */
export function guardStall(
  body: ReadableStream<Uint8Array>,
  ms: number,
  abandon: () => boolean = () => false,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let handedAt: number | undefined; // when the last chunk was handed over, with none asked since
  let check: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const finish = () => {
    done = true;
    clearTimeout(check);
  };
  const watch = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    check = setTimeout(() => {
      check = undefined;
      // A pull in flight: the next chunk handed over arms the watch again.
      if (done || handedAt === undefined) return;
      const waited = performance.now() - handedAt;
      if (waited < ms) return watch(controller);
      finish();
      if (abandon()) return;
      reader.cancel(new StalledReaderError(ms)).catch(() => {});
      controller.error(new StalledReaderError(ms));
    }, Math.max(1, ms - (performance.now() - (handedAt ?? performance.now()))));
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      handedAt = undefined;
      let next;
      try {
        next = await reader.read();
      } catch (err) {
        finish();
        throw err;
      }
      if (done) return;
      if (next.done) {
        finish();
        controller.close();
        return;
      }
      controller.enqueue(next.value);
      handedAt = performance.now();
      if (check === undefined) watch(controller);
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Guards answers' bodies with one time limit, and says what it abandoned in one log line a
 * second at most, however many (each is a connection an attacker may have opened).
 */
export class StallGuard {
  readonly #ms: number;
  readonly #cut: ((peer: Deno.NetAddr) => void) | undefined;
  #abandoned = 0;
  #report: ReturnType<typeof setTimeout> | undefined;

  /**
   * Makes the guard.
   *
   * @param ms how long a reader may take nothing while the next bytes are ready
   * @param cut ends the connection of a peer (the connection guard's); without it a stalled
   *   body errors, which ends its connection too
   */
  constructor(ms: number, cut?: (peer: Deno.NetAddr) => void) {
    this.#ms = ms;
    this.#cut = cut;
  }

  /**
   * Guards an answer's body (not an upgrade's, nor a body-less one).
   *
   * @param answer the answer
   * @param peer its client
   * @returns the answer with its body guarded
   */
  guard(answer: Response, peer?: Deno.NetAddr): Response {
    if (!answer.body || answer.status === 101) return answer;
    const body = guardStall(answer.body, this.#ms, () => {
      this.#stalled();
      if (!this.#cut || !peer) return false;
      this.#cut(peer);
      return true;
    });
    return new Response(body, answer);
  }

  #stalled(): void {
    this.#abandoned++;
    this.#report ??= setTimeout(() => {
      getLogger(["pvw-launcher", "connections"]).warn(
        "abandoned {count} answers whose clients took nothing for {seconds} s",
        { count: this.#abandoned, seconds: this.#ms / 1000 },
      );
      this.#abandoned = 0;
      this.#report = undefined;
    }, 1000);
  }
}
