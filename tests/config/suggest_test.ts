import assert from "node:assert/strict";
import { levenshtein, suggest } from "../../lib/config/suggest.ts";

Deno.test("levenshtein() counts single-character insertions, deletions and substitutions", async (t) => {
  const cases: [string, string, number][] = [
    ["", "", 0],
    ["abc", "abc", 0],
    ["", "abc", 3],
    ["wait_lines", "wait_line", 1],
    ["wiat_line", "wait_line", 2],
    ["kitten", "sitting", 3],
    ["sessionUrl", "sessionURL", 2],
  ];
  for (const [a, b, distance] of cases) {
    await t.step(`${JSON.stringify(a)} → ${JSON.stringify(b)} is ${distance}`, () => {
      assert.equal(levenshtein(a, b), distance);
      assert.equal(levenshtein(b, a), distance);
    });
  }
});

Deno.test("suggest() returns the nearest known name, or nothing when none is near", async (t) => {
  const known = ["url", "log", "map_file", "proxy_url", "wait_line", "timeout", "max_session"];
  const cases: [string, string | undefined][] = [
    ["wait_lines", "wait_line"],
    ["mapfile", "map_file"],
    ["max_sessions", "max_session"],
    ["Timeout", "timeout"],
    ["lg", "log"],
    ["urls", "url"],
    ["colour", undefined],
    ["dir", undefined],
    ["cmd", undefined],
  ];
  for (const [word, expected] of cases) {
    await t.step(`${word} → ${expected}`, () => assert.equal(suggest(word, known), expected));
  }
  await t.step("a case slip in a long name costs one edit", () => {
    assert.equal(suggest("sessionUrl", ["sessionURL", "sessionData"]), "sessionURL");
  });
  await t.step(
    "the first candidate wins a tie",
    () => assert.equal(suggest("ab", ["aa", "bb"]), "aa"),
  );
  await t.step("the distance limit can be set", () => {
    assert.equal(suggest("wiat_lnie", ["wait_line"]), undefined);
    assert.equal(suggest("wiat_lnie", ["wait_line"], 4), "wait_line");
  });
});
