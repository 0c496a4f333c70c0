import assert from "node:assert/strict";
import { join } from "node:path";
import { parseConfig } from "../../lib/config/load.ts";
import { LineIndex, parseSource } from "../../lib/config/source.ts";
import type { ConfigProblem } from "../../lib/config/problems.ts";
import { FILE, problemsOf } from "./test_utils.ts";

const TESTDATA = join(import.meta.dirname!, "..", "testdata", "config");

/** A problem as `line:column message`. */
const show = (p: ConfigProblem) => `${p.line}:${p.column} ${p.message}`;

const HASH = "'#' comments are not allowed; use // for comments";

Deno.test("LineIndex.locate() counts lines and columns from 1", async (t) => {
  const cases: [string, string, number, [number, number]][] = [
    ["the first character", "ab\ncd", 0, [1, 1]],
    ["the end of a line", "ab\ncd", 2, [1, 3]],
    ["the start of the next line", "ab\ncd", 3, [2, 1]],
    ["after a CRLF line end", "ab\r\ncd", 4, [2, 1]],
    ["an empty line", "a\n\n\nb", 3, [3, 1]],
    ["the end of the text", "a\nbc", 4, [2, 3]],
  ];
  for (const [name, text, offset, [line, column]] of cases) {
    await t.step(
      name,
      () => assert.deepStrictEqual(new LineIndex(text).locate(offset), { line, column }),
    );
  }
});

Deno.test("parseSource() ignores a byte order mark when counting columns", () => {
  const { problems } = parseSource('\ufeff{"a": 1,, }', FILE);
  assert.deepStrictEqual(problems.map(show), ['1:9 expected a key in double quotes, found ","']);
});

Deno.test("parseConfig() reports a syntax error with its file, line and column", async (t) => {
  const cases: [string, string, string[]][] = [
    ["a missing comma between members", '{\n  "url": "http://h/p"\n  "applications": {}\n}', [
      '3:3 missing "," before "\\"applications\\""',
    ]],
    ["a missing comma in a list", '{\n  "wait_line": ["a" "b"]\n}', [
      '2:21 missing "," before "\\"b\\""',
    ]],
    ["an unterminated string", '{\n  "url": "http://h/p,\n  "log": "x"\n}', [
      '2:10 this string is never closed; strings end with " on the same line',
    ]],
    ["an unclosed object", '{\n  "url": "http://h/p"', [
      '2:22 expected "," or "}", found the end of the file',
    ]],
    ["an unclosed block comment", '{ /* note\n "a": 1 }', [
      "1:3 this /* comment is never closed with */",
    ]],
    ["content after the object", '{ "url": "http://h/p" }\n}', [
      '2:1 unexpected "}" after the end of the top-level value',
    ]],
    ["an empty file", "", ["1:1 the file is empty; expected a JSON object"]],
    ["a bad escape", '{ "dir": "C:\\data" }', [
      "1:10 invalid escape in a string; write \\\\ for a backslash",
    ]],
    ["one error per line, on several lines", '{\n  "a": 1,,\n  "b": [1 2],\n  "c": 3\n}', [
      '2:10 expected a key in double quotes, found ","',
      '3:11 missing "," before "2"',
    ]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => {
      const problems = problemsOf(text);
      assert.deepStrictEqual(problems.map(show), expected);
      for (const p of problems) {
        assert.deepStrictEqual([p.file, p.severity, p.path], [FILE, "error", ""]);
      }
    });
  }
});

Deno.test("parseConfig() points at the usual mistakes with a hint", async (t) => {
  const cases: [string, string, string[]][] = [
    ["a '#' comment", '{\n  "url": "http://h/p", # the endpoint\n  "log": "/tmp" # logs\n}', [
      `2:24 ${HASH}`,
      `3:17 ${HASH}`,
    ]],
    ["a '#' comment on its own line", "{\n# settings\n}", [`2:1 ${HASH}`]],
    ["a single-quoted key", "{\n  'url': \"http://h/p\"\n}", [
      '2:3 strings and keys take double quotes: write "url"',
    ]],
    ["a single-quoted value", "{\n  \"url\": 'http://h/p'\n}", [
      '2:10 strings and keys take double quotes: write "http://h/p"',
    ]],
    ["an unquoted key", '{\n  "resources": [{ "host": "h", port: [1, 2] }]\n}', [
      '2:32 keys take double quotes: write "port"',
    ]],
    ["a one-letter unquoted key", "{\n  a: 1\n}", ['2:3 keys take double quotes: write "a"']],
    ["Python's True and None", '{\n  "a": True,\n  "b": None\n}', [
      "2:8 JSON writes true, not True",
      "3:8 JSON writes null, not None",
    ]],
    ["several mistakes on one line", "{ 'a': 'b', c: 1 } # end", [
      '1:3 strings and keys take double quotes: write "a"',
      '1:13 keys take double quotes: write "c"',
      `1:20 ${HASH}`,
    ]],
    ["a real error after a hinted one", "{\n  'a': 1\n  'b': 2\n}", [
      '2:3 strings and keys take double quotes: write "a"',
      '3:3 strings and keys take double quotes: write "b"',
      '3:3 missing "," before "\'b\'"',
    ]],
  ];
  for (const [name, text, expected] of cases) {
    await t.step(name, () => assert.deepStrictEqual(problemsOf(text).map(show), expected));
  }
});

Deno.test("parseConfig() does not mistake '#', quotes or colons inside strings and comments", () => {
  const { config } = parseConfig(
    `{
  // a comment with a '# hash' and key: value
  /* another: 'one' # here */
  "url": "http://localhost:8080/paraview#frag",
  "resources": [{ "host": "h", "port": [1, 2] }],
  "applications": { "a": { "cmd": ["x", "it's #1: \\"quoted\\""] } },
}`,
    FILE,
    { logDir: "/var/log/pvw" },
  );
  assert.deepStrictEqual(config.apps.a.cmd, ["x", 'it\'s #1: "quoted"']);
});

Deno.test("parseConfig() answers the spec's own example with pointed errors, not a generic one", async () => {
  const problems = problemsOf(await Deno.readTextFile(join(TESTDATA, "spec_example.config")));
  const shown = problems.map(show);
  for (
    const expected of [
      '2:1 strings and keys take double quotes: write "url"',
      `2:49 ${HASH}`,
      '9:40 keys take double quotes: write "port"',
      `9:62 ${HASH}`,
      '10:1 strings and keys take double quotes: write "applications"',
      '10:1 missing "," before "\'applications\'"',
      '31:4 strings and keys take double quotes: write "server_base_path"',
    ]
  ) {
    assert(shown.includes(expected), `missing ${expected} in:\n${shown.join("\n")}`);
  }
  const pointed = /double quotes|'#' comments|missing ","/;
  for (const p of problems) assert.match(p.message, pointed, show(p));
  assert.equal(problems.filter((p) => p.message.startsWith("'#'")).length, 8);
});
