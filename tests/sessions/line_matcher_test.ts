import assert from "node:assert/strict";
import { LineMatcher } from "../../lib/sessions/line_matcher.ts";

const WSLINK = "wslink: Starting factory";
const TRAME = "App running at";
const encode = (text: string) => new TextEncoder().encode(text);

/** Feeds `bytes` in chunks of `size` bytes and returns what the last push() answered. */
function feed(matcher: LineMatcher, bytes: Uint8Array, size: number): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < bytes.length; i += size) found = matcher.push(bytes.subarray(i, i + size));
  return found;
}

/** Feeds `bytes` split into two chunks at `at`. */
function feedSplit(matcher: LineMatcher, bytes: Uint8Array, at: number): string | undefined {
  matcher.push(bytes.subarray(0, at));
  return matcher.push(bytes.subarray(at));
}

// [output, whether it holds a ready line for WSLINK]
const outputs: [output: string, ready: boolean][] = [
  ["wslink: Starting factory\n", true],
  ["wslink: Starting factory", true],
  ["loading\nwslink: Starting factory", true],
  ["loading\r\nwslink: Starting factory\r\n", true],
  ["loading\rwslink: Starting factory", true],
  ["2024-01-01 INFO wslink: Starting factory on 0.0.0.0:9001\n", true],
  ["wslink: Starting\nfactory", false],
  ["wslink: Start\ning factory", false],
  ["wslink: Start\r\ning factory", false],
  ["wslink: Start\ring factory", false],
  ["wslink: starting factory", false],
  ["wslink: Starting factor", false],
  ["", false],
];

Deno.test("LineMatcher finds a needle within one line, finished or not", async (t) => {
  for (const [output, ready] of outputs) {
    await t.step(JSON.stringify(output), () => {
      const matcher = new LineMatcher([WSLINK]);
      const expected = ready ? WSLINK : undefined;
      assert.deepStrictEqual(matcher.push(encode(output)), expected);
      assert.deepStrictEqual(matcher.end(), expected);
      assert.deepStrictEqual(matcher.matched, expected);
    });
  }
});

Deno.test("LineMatcher gives the same answer whatever the chunk boundaries", async (t) => {
  for (const [output, ready] of outputs) {
    const bytes = encode(output);
    const expected = ready ? WSLINK : undefined;
    await t.step(`${JSON.stringify(output)} in 1-byte chunks`, () => {
      const matcher = new LineMatcher([WSLINK]);
      assert.deepStrictEqual(feed(matcher, bytes, 1), expected);
      assert.deepStrictEqual(matcher.end(), expected);
    });
    await t.step(`${JSON.stringify(output)} split at every byte`, () => {
      for (let at = 0; at <= bytes.length; at++) {
        assert.deepStrictEqual(
          feedSplit(new LineMatcher([WSLINK]), bytes, at),
          expected,
          `split at ${at}`,
        );
      }
    });
  }
});

Deno.test("LineMatcher finds a needle whose multi-byte UTF-8 characters are split", () => {
  const needle = "Serveur prêt ✓ 🚀";
  const bytes = encode(`démarrage…\nINFO ${needle}`);
  for (let at = 0; at <= bytes.length; at++) {
    assert.deepStrictEqual(
      feedSplit(new LineMatcher([needle]), bytes, at),
      needle,
      `split at ${at}`,
    );
  }
  assert.deepStrictEqual(feed(new LineMatcher([needle]), bytes, 1), needle);
});

Deno.test("LineMatcher.push() answers the needle that completes first in the output", async (t) => {
  const cases: [output: string, expected: string][] = [
    [`${TRAME}: http://localhost:8080/\n${WSLINK}`, TRAME],
    [`${WSLINK}\n${TRAME}`, WSLINK],
    ["x App running at wslink: Starting factory", TRAME],
  ];
  for (const [output, expected] of cases) {
    await t.step(JSON.stringify(output), () => {
      const bytes = encode(output);
      for (const size of [1, 3, 7, bytes.length]) {
        assert.deepStrictEqual(
          feed(new LineMatcher([WSLINK, TRAME]), bytes, size),
          expected,
          `${size}`,
        );
      }
    });
  }
  await t.step("on a tie, the needle listed first", () => {
    assert.deepStrictEqual(new LineMatcher(["factory", WSLINK]).push(encode(WSLINK)), "factory");
    assert.deepStrictEqual(new LineMatcher([WSLINK, "factory"]).push(encode(WSLINK)), WSLINK);
  });
});

Deno.test("LineMatcher.push() keeps answering the needle once found", () => {
  const matcher = new LineMatcher([WSLINK, TRAME]);
  assert.deepStrictEqual(matcher.push(encode(`${WSLINK}\n`)), WSLINK);
  assert.deepStrictEqual(matcher.push(encode(`${TRAME}\n`)), WSLINK);
  assert.deepStrictEqual(matcher.push(encode("")), WSLINK);
  assert.deepStrictEqual(matcher.end(), WSLINK);
  assert.deepStrictEqual(matcher.matched, WSLINK);
});

Deno.test("LineMatcher.matched is undefined until a needle is found", () => {
  const matcher = new LineMatcher([WSLINK]);
  assert.deepStrictEqual(matcher.matched, undefined);
  matcher.push(encode("wslink: Starting"));
  assert.deepStrictEqual(matcher.matched, undefined);
  matcher.push(encode(" factory"));
  assert.deepStrictEqual(matcher.matched, WSLINK);
});

Deno.test("LineMatcher.end() checks what the decoder held back", () => {
  // An output cut inside a character ends as U+FFFD once the decoder is flushed.
  const needle = "ready \uFFFD";
  const matcher = new LineMatcher([needle]);
  assert.deepStrictEqual(matcher.push(encode("ready ✓").subarray(0, -1)), undefined);
  assert.deepStrictEqual(matcher.end(), needle);
});

Deno.test("LineMatcher finds a one-character needle split from the text before it", () => {
  const matcher = new LineMatcher(["!"]);
  assert.deepStrictEqual(feed(matcher, encode("a long line without it\nand then !"), 1), "!");
});

Deno.test("LineMatcher finds a needle at the end of a long output without line breaks", () => {
  const matcher = new LineMatcher([WSLINK]);
  const filler = encode("x".repeat(64 * 1024));
  for (let i = 0; i < 64; i++) assert.deepStrictEqual(matcher.push(filler), undefined);
  assert.deepStrictEqual(matcher.push(encode(`wslink: Start`)), undefined);
  assert.deepStrictEqual(matcher.push(encode(`ing factory`)), WSLINK);
});

Deno.test("new LineMatcher() throws RangeError for needles that can never match", async (t) => {
  const cases: [name: string, needles: string[]][] = [
    ["no needle", []],
    ["an empty needle", [WSLINK, ""]],
    ["a needle with \\n", ["a\nb"]],
    ["a needle with \\r", ["a\r"]],
  ];
  for (const [name, needles] of cases) {
    await t.step(name, () => {
      assert.throws(() => new LineMatcher(needles), RangeError);
    });
  }
});
