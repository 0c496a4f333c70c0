import assert from "node:assert/strict";
import { compileWholeMatch } from "../../lib/config/wslink_format.ts";
import { pythonPattern } from "../../lib/config/python_regexp.ts";

// Each verdict was checked with Python 3's re.fullmatch(pattern, value).
const cases: [pattern: string, value: string, matches: boolean][] = [
  ["^[-\\w./]+$", "données/can.ex2", true],
  ["^[-\\w./]+$", "日本語/ファイル.vtk", true],
  ["^[-\\w./]+$", "x; rm -rf /", false],
  ["^[-\\w./]+$", "a b", false],
  ["\\w+", "Ωmega_٣", true],
  ["\\W+", "-- ..", true],
  ["\\W+", "é", false],
  ["\\d+", "٣٤5", true],
  ["\\D+", "abc", true],
  ["[\\d.]+", "1.٣", true],
  ["(?P<a>x)y(?P=a)", "xyx", true],
  ["(?P<a>x)y(?P=a)", "xyz", false],
  ["\\Aabc\\Z", "abc", true],
  ["[\\]\\w]+", "]a]", true],
  ["[]\\w]+", "]a]", true],
  ["a\\.b", "a.b", true],
  ["a\\.b", "axb", false],
  ["\\\\w", "\\w", true],
  ["[a-c]+", "cab", true],
];

Deno.test("sanitize patterns mean what they mean in Python, Unicode \\w and \\d included", async (t) => {
  for (const [pattern, value, matches] of cases) {
    await t.step(`${pattern} ${matches ? "matches" : "does not match"} ${value}`, () => {
      assert.equal(compileWholeMatch(pattern).test(value), matches, pythonPattern(pattern));
    });
  }
});

Deno.test("a pattern JavaScript cannot read is a SyntaxError, as before", () => {
  assert.throws(() => compileWholeMatch("[a-"), SyntaxError);
});

Deno.test("escapes Python allows and JavaScript's u flag does not are translated", () => {
  assert.equal(compileWholeMatch("a\\-b\\ c\\#").test("a-b c#"), true);
  assert.equal(compileWholeMatch("[\\w\\-]+").test("a-é"), true);
});
