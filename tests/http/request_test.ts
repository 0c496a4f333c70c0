import assert from "node:assert/strict";
import { BadRequestError } from "../../lib/errors/mod.ts";
import { PayloadTooLargeError, RequestTimeoutError } from "../../lib/http/errors.ts";
import {
  DEFAULT_LIMITS,
  parseLaunchBody,
  readBody,
  type RequestLimits,
} from "../../lib/http/request.ts";

/** A body that makes one chunk per read (no read-ahead) and counts what it was asked for. */
function countedBody(chunks: Uint8Array[]) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks.length) return controller.close();
      controller.enqueue(chunks[seen.pulled++]);
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, seen };
}

function post(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request("http://127.0.0.1/paraview", { method: "POST", body, headers });
}

const bytes = (...values: number[]) => new Uint8Array(values);

Deno.test("readBody() returns the body as text", async (t) => {
  const cases: [name: string, body: BodyInit | null, expected: string][] = [
    ["no body", null, ""],
    ["an empty body", "", ""],
    ["JSON", '{"application":"viz"}', '{"application":"viz"}'],
    ["multi-byte UTF-8", "é€😀", "é€😀"],
  ];
  for (const [name, body, expected] of cases) {
    await t.step(name, async () => {
      assert.equal(await readBody(post(body), 1024), expected);
    });
  }
  await t.step("a character split across two chunks", async () => {
    const euro = new TextEncoder().encode("€");
    const { stream } = countedBody([euro.subarray(0, 1), euro.subarray(1)]);
    assert.equal(await readBody(post(stream), 1024), "€");
  });
});

Deno.test("readBody() accepts a body of exactly the limit, declared or streamed", async (t) => {
  await t.step("declared", async () => {
    assert.equal(
      await readBody(post("x".repeat(16), { "content-length": "16" }), 16),
      "x".repeat(16),
    );
  });
  await t.step("streamed", async () => {
    const { stream } = countedBody([new Uint8Array(8).fill(120), new Uint8Array(8).fill(120)]);
    assert.equal(await readBody(post(stream), 16), "x".repeat(16));
  });
});

Deno.test("readBody() refuses a declared content-length over the limit without reading the body", async () => {
  const { stream, seen } = countedBody(Array.from({ length: 1000 }, () => new Uint8Array(1024)));
  await assert.rejects(
    readBody(post(stream, { "content-length": String(1000 * 1024) }), 4096),
    (err) => err instanceof PayloadTooLargeError && err.limit === 4096,
  );
  assert.deepEqual(seen, { pulled: 0, cancelled: true });
});

Deno.test("readBody() stops reading a streamed body as soon as it passes the limit", async (t) => {
  const cases: [name: string, headers: Record<string, string>][] = [
    ["without content-length", {}],
    ["with a content-length that understates it", { "content-length": "10" }],
  ];
  for (const [name, headers] of cases) {
    await t.step(name, async () => {
      const { stream, seen } = countedBody(
        Array.from({ length: 1000 }, () => new Uint8Array(1024)),
      );
      await assert.rejects(readBody(post(stream, headers), 4096), PayloadTooLargeError);
      assert.deepEqual(seen, { pulled: 5, cancelled: true }, "the fifth KiB passes 4096 bytes");
    });
  }
});

Deno.test("readBody() throws RequestTimeoutError when the body does not arrive in time, and stops reading", async () => {
  const seen = { cancelled: false };
  const first = Promise.withResolvers<void>();
  // One chunk, then nothing more: a client that holds the connection with half a body.
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
    },
    pull() {
      first.resolve();
      return new Promise(() => {});
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  await assert.rejects(
    readBody(post(stream), 1024, 20),
    (err) => err instanceof RequestTimeoutError && /within 0\.02 s/.test(err.message),
  );
  assert(seen.cancelled);
});

Deno.test("readBody() with a time limit reads a body that arrives in time", async () => {
  assert.equal(await readBody(post('{"a":1}'), 1024, 60_000), '{"a":1}');
});

Deno.test("readBody() throws BadRequestError for a body that is not valid UTF-8", async (t) => {
  const cases: [name: string, body: Uint8Array<ArrayBuffer>][] = [
    ["a lone continuation byte", bytes(0x7b, 0x80, 0x7d)],
    ["an invalid byte", bytes(0xff)],
    ["a truncated sequence", bytes(0x22, 0xc3)],
    ["an overlong encoding of /", bytes(0xc0, 0xaf)],
    ["an encoded surrogate", bytes(0xed, 0xa0, 0x80)],
  ];
  for (const [name, body] of cases) {
    await t.step(name, async () => {
      await assert.rejects(readBody(post(body), 1024), (err) => {
        assert.ok(err instanceof BadRequestError);
        assert.match(err.message, /not valid UTF-8/);
        return true;
      });
    });
  }
});

/** Asserts that parseLaunchBody refuses `text` with a BadRequestError matching `message`. */
function assertRefused(text: string, message: RegExp, limits?: RequestLimits): void {
  assert.throws(() => parseLaunchBody(text, limits), (err) => {
    assert.ok(err instanceof BadRequestError, `expected BadRequestError, got ${err}`);
    assert.match(err.message, message);
    return true;
  });
}

const SMALL: RequestLimits = { maxBodyBytes: 1024, maxKeys: 3, maxValueLength: 10 };
const json = (value: unknown) => JSON.stringify(value);
const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

Deno.test("parseLaunchBody() returns a JSON object within the limits as it was sent", async (t) => {
  const cases: [name: string, body: Record<string, unknown>, limits: RequestLimits][] = [
    ["an empty object", {}, SMALL],
    ["scalars", { application: "viz", node: 4, debug: false, none: null }, DEFAULT_LIMITS],
    ["nested values", { opts: { a: [1, "two", { three: 3 }] } }, DEFAULT_LIMITS],
    ["non-ASCII and right-to-left text", { file: "données/ü/שלום/مرحبا.vtk" }, DEFAULT_LIMITS],
    ["as many keys as allowed", keys(3), SMALL],
    ["values of exactly the longest length", { s: "x".repeat(10), a: [123, 4567] }, SMALL],
    ["a key of 256 characters", { ["k".repeat(256)]: 1 }, DEFAULT_LIMITS],
  ];
  for (const [name, body, limits] of cases) {
    await t.step(name, () => {
      assert.deepEqual(parseLaunchBody(json(body), limits), body);
    });
  }
});

Deno.test("parseLaunchBody() throws BadRequestError for anything but a JSON object", async (t) => {
  const cases: [text: string, message: RegExp][] = [
    ["", /not valid JSON/],
    ["{", /not valid JSON/],
    ["{application: 'viz'}", /not valid JSON/],
    ['{"a": 1} trailing', /not valid JSON/],
    ["null", /must be a JSON object/],
    ["1", /must be a JSON object/],
    ['"viz"', /must be a JSON object/],
    ["true", /must be a JSON object/],
    ["[]", /must be a JSON object/],
    ['[{"application": "viz"}]', /must be a JSON object/],
  ];
  for (const [text, message] of cases) {
    await t.step(JSON.stringify(text), () => assertRefused(text, message));
  }
});

Deno.test("parseLaunchBody() throws BadRequestError beyond the key and length limits", async (t) => {
  const cases: [name: string, body: unknown, message: RegExp][] = [
    ["too many keys", keys(4), /more than 3 keys/],
    ["a long string", { s: "x".repeat(11) }, /value of "s" is longer than 10 characters/],
    ["a long array", { a: [12345, 67890] }, /value of "a" is longer than 10/],
    ["a long object", { o: { key: "value" } }, /value of "o" is longer than 10/],
    ["a key of 257 characters", { ["k".repeat(257)]: 1 }, /key that is too long/],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, () => assertRefused(json(body), message, SMALL));
  }
});

Deno.test("parseLaunchBody() throws BadRequestError for control characters at any depth", async (t) => {
  const cases: [name: string, body: unknown, message: RegExp][] = [
    ["NUL in a value", { file: "a\u0000b" }, /value of "file" contains control characters/],
    ["a newline in a value", { file: "a\nb" }, /value of "file" contains control/],
    ["a carriage return in a value", { file: "a\rb" }, /value of "file" contains control/],
    ["a tab in a value", { file: "a\tb" }, /value of "file" contains control/],
    ["ESC in a value", { file: "\u001b[31m" }, /value of "file" contains control/],
    ["DEL in a value", { file: "\u007f" }, /value of "file" contains control/],
    ["a C1 control (U+0080) in a value", { file: "\u0080" }, /value of "file" contains control/],
    ["NEL (U+0085) in a value", { file: "a\u0085b" }, /value of "file" contains control/],
    ["CSI (U+009B) in a value", { file: "\u009b31m" }, /value of "file" contains control/],
    ["U+009F in a value", { file: "\u009f" }, /value of "file" contains control/],
    ["a bidi override (U+202E)", { file: "a\u202etxt.exe" }, /value of "file" contains control/],
    ["a bidi embedding (U+202A)", { file: "\u202a" }, /value of "file" contains control/],
    ["a bidi isolate (U+2066)", { file: "\u2066x" }, /value of "file" contains control/],
    ["a pop isolate (U+2069)", { file: "x\u2069" }, /value of "file" contains control/],
    ["a line separator (U+2028)", { file: "a\u2028b" }, /value of "file" contains control/],
    ["a paragraph separator (U+2029)", { file: "a\u2029b" }, /value of "file" contains control/],
    ["a left-to-right mark (U+200E)", { file: "a\u200eb" }, /value of "file" contains control/],
    ["a right-to-left mark (U+200F)", { file: "a\u200fb" }, /value of "file" contains control/],
    ["an Arabic letter mark (U+061C)", { file: "a\u061cb" }, /value of "file" contains control/],
    ["a lone high surrogate", { file: "a\ud800b" }, /value of "file" contains control/],
    ["a lone low surrogate", { file: "\udc00" }, /value of "file" contains control/],
    ["a low surrogate before a high one", { file: "\udc00\ud800" }, /contains control/],
    ["a bidi override in a key", { "k\u202e": 1 }, /key that is too long or has control/],
    ["a lone surrogate in a key", { "k\ud83d": 1 }, /key that is too long or has control/],
    ["in an array", { args: ["ok", "a\nb"] }, /value of "args" contains control/],
    ["in a nested array", { args: [["ok", ["a\nb"]]] }, /value of "args" contains control/],
    ["in a nested object's value", { o: { p: { q: "a\u0001" } } }, /value of "o" contains control/],
    ["in a nested object's key", { o: { p: { "k\n": 1 } } }, /value of "o" contains control/],
    ["in a key", { "k\n": 1 }, /key that is too long or has control characters/],
  ];
  for (const [name, body, message] of cases) {
    await t.step(name, () => assertRefused(json(body), message));
  }
});

Deno.test("parseLaunchBody() refuses deep nesting by its length and never overflows the stack", async (t) => {
  const nested = (depth: number, inner = "1") => `${"[".repeat(depth)}${inner}${"]".repeat(depth)}`;
  await t.step("under the default limits", () => {
    for (const depth of [3000, 100_000]) {
      assertRefused(`{"a": ${nested(depth)}}`, /value of "a" is longer than 4096 characters/);
    }
  });
  const roomy: RequestLimits = { maxBodyBytes: 1e9, maxKeys: 64, maxValueLength: 1e9 };
  await t.step("under limits that let it through", () => {
    const body = parseLaunchBody(`{"a": ${nested(100_000)}}`, roomy);
    assert.ok(Array.isArray(body.a));
  });
  await t.step("a control character at the bottom is still found", () => {
    assertRefused(`{"a": ${nested(100_000, '"\\n"')}}`, /contains control characters/, roomy);
  });
});
