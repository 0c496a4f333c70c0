import assert from "node:assert/strict";
import { MissingVariableError } from "../lib/errors.ts";
import { compileTemplate, renderTemplate, TemplateSyntaxError } from "../lib/template.ts";

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

// [template, 0-based index of the bad `$`], as Python reports it (its column is index + 1).
const invalid: [template: string, index: number][] = [
  ["x$", 1],
  ["$1", 0],
  ["${1}", 0],
  ["${a", 0],
  ["${ a}", 0],
  ["$-", 0],
  ["$ a", 0],
  ["$é", 0],
  ["${é}", 0],
  ["$İ", 0],
  ["$a $", 3],
  ["$$$", 2],
  ["line1\n  $", 8],
];

Deno.test("renderTemplate() follows Python string.Template for $name, ${name} and $$", async (t) => {
  for (const [template, expected] of rendered) {
    await t.step(JSON.stringify(template), () => {
      assert.deepStrictEqual(renderTemplate(compileTemplate(template), lookup, "test"), expected);
      assert.deepStrictEqual(renderTemplate(template, lookup, "test"), expected);
    });
  }
});

Deno.test("compileTemplate() throws TemplateSyntaxError at any other $", async (t) => {
  for (const [template, index] of invalid) {
    await t.step(JSON.stringify(template), () => {
      assert.throws(() => compileTemplate(template), (err) => {
        assert(err instanceof TemplateSyntaxError);
        assert.deepStrictEqual(err.index, index);
        assert.deepStrictEqual(err.template, template);
        return true;
      });
    });
  }
});

Deno.test("TemplateSyntaxError's message gives the line and column of the bad $", () => {
  const err = new TemplateSyntaxError("line1\n  $", 8);
  assert.match(err.message, /line 2, column 3/);
  assert.deepStrictEqual(err.name, "TemplateSyntaxError");
});

Deno.test("renderTemplate() throws TemplateSyntaxError for invalid template text", () => {
  assert.throws(() => renderTemplate("cost: 5$", lookup, "test"), TemplateSyntaxError);
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
