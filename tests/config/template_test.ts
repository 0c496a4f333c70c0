import assert from "node:assert/strict";
import {
  compileTemplate,
  doubtfulBrace,
  MissingVariableError,
  renderTemplate,
} from "../../lib/config/template.ts";

const values: Record<string, string> = {
  a: "A",
  b: "B",
  ab: "AB",
  a_1x: "X",
  _: "U",
  _x9: "Y",
  A: "big",
  port: "9001",
};
const lookup = (name: string) => values[name];

// Each expected output was checked against Python 3's string.Template(t).substitute(values).
const rendered: [template: string, expected: string][] = [
  ["", ""],
  ["plain text", "plain text"],
  ["$a", "A"],
  ["${a}", "A"],
  ["$$", "$"],
  ["$$a", "$a"],
  ["$$$a", "$A"],
  ["$$$$", "$$"],
  ["$${a}", "${a}"],
  ["$a$b", "AB"],
  ["${a}b", "Ab"],
  ["$ab", "AB"],
  ["$a_1x", "X"],
  ["$_", "U"],
  ["${_x9}", "Y"],
  ["$A", "big"],
  ["$a.b", "A.b"],
  ["$a-b", "A-b"],
  ["${a}}", "A}"],
  ["${a}${b}$$${a}", "AB$A"],
  ["é$aé", "éAé"],
  ["--port=${port}", "--port=9001"],
];

// A `$` that starts no placeholder stays a literal `$`, as Python's safe_substitute leaves it.
const literal: [template: string, expected: string][] = [
  ["x$", "x$"],
  ["$1", "$1"],
  ["$0 ${a}", "$0 A"],
  ["${1}", "${1}"],
  ["${a", "${a"],
  ["${ a}", "${ a}"],
  ["$-", "$-"],
  ["$ a", "$ a"],
  ["$!$*$@$#$?", "$!$*$@$#$?"],
  ["$é", "$é"],
  ["${é}", "${é}"],
  ["$İ", "$İ"],
  ["$a $", "A $"],
  ["$$$", "$$"],
  ["line1\n  $", "line1\n  $"],
  ["sh -c 'exec app \"$0\" --port $port' $a", "sh -c 'exec app \"$0\" --port 9001' A"],
];

Deno.test("renderTemplate() follows Python string.Template for $name, ${name} and $$", async (t) => {
  for (const [template, expected] of rendered) {
    await t.step(JSON.stringify(template), () => {
      assert.deepStrictEqual(renderTemplate(compileTemplate(template), lookup, "test"), expected);
      assert.deepStrictEqual(renderTemplate(template, lookup, "test"), expected);
    });
  }
});

Deno.test("any other $ is a literal $, as in Python's safe_substitute", async (t) => {
  for (const [template, expected] of literal) {
    await t.step(JSON.stringify(template), () => {
      assert.deepStrictEqual(renderTemplate(compileTemplate(template), lookup, "test"), expected);
    });
  }
});

Deno.test("doubtfulBrace() points at a ${ that closes no name, and at nothing else", () => {
  assert.equal(doubtfulBrace("--port ${port"), "${port");
  assert.equal(doubtfulBrace("${1}"), "${1}");
  assert.equal(doubtfulBrace("a ${ x} b"), "${");
  for (const fine of ["${a}", "$$", "$${x", "$1", "$ a", "plain", "$a{b}"]) {
    assert.equal(doubtfulBrace(fine), undefined, fine);
  }
});

Deno.test("renderTemplate() keeps a variable without a value as written when told to", () => {
  const t = compileTemplate("$a ${nope} $other$$ $a");
  assert.deepStrictEqual(renderTemplate(t, lookup, "test", "keep"), "A ${nope} $other$ A");
});

Deno.test("renderTemplate() throws MissingVariableError for the first variable without a value", () => {
  const t = compileTemplate("$a ${nope} $other");
  assert.throws(() => renderTemplate(t, lookup, 'application "loader"'), (err) => {
    assert(err instanceof MissingVariableError);
    assert.deepStrictEqual(err.variable, "nope");
    assert.deepStrictEqual(err.where, 'application "loader"');
    return true;
  });
});

Deno.test("renderTemplate() inserts values as they are, without escaping or re-expanding", () => {
  const tricky: Record<string, string> = { v: `a b "c" 'd' $e \${f} $$ ; rm -rf / \n`, e: "E" };
  assert.deepStrictEqual(
    renderTemplate("[${v}]", (n) => tricky[n], "test"),
    `[a b "c" 'd' $e \${f} $$ ; rm -rf / \n]`,
  );
});

Deno.test("renderTemplate() accepts an empty string as a value", () => {
  assert.deepStrictEqual(renderTemplate("x${a}y", () => "", "test"), "xy");
});

Deno.test("compileTemplate() lists each variable once, in order of first use", () => {
  const t = compileTemplate("$port ${host} $$id $port $secret");
  assert.deepStrictEqual(t.source, "$port ${host} $$id $port $secret");
  assert.deepStrictEqual(t.variables, ["port", "host", "secret"]);
  assert.deepStrictEqual(t.names, ["port", "host", "port", "secret"]);
  assert.deepStrictEqual(t.literals, ["", " ", " $id ", " ", ""]);
});

Deno.test("a compiled template renders many times with different values", () => {
  const t = compileTemplate("--port ${port}");
  for (const port of ["9001", "9002", "9003"]) {
    assert.deepStrictEqual(renderTemplate(t, () => port, "test"), `--port ${port}`);
  }
});

Deno.test("a compiled template cannot be changed", () => {
  const t = compileTemplate("$a");
  assert(Object.isFrozen(t));
  assert(Object.isFrozen(t.literals));
  assert(Object.isFrozen(t.names));
  assert(Object.isFrozen(t.variables));
});
