import assert from "node:assert/strict";
import { pathMatcher } from "../../lib/http/path_match.ts";

Deno.test("pathMatcher() matches exactly as URLPattern.exec does", async (t) => {
  const patterns = [
    "/paraview{/}?",
    "/paraview/:id",
    "/_dashboard/api/sessions/:id/log",
    "/my.app-v2/:id",
    "/*",
    "/metrics",
    "/a/:x/b/:y",
  ];
  const paths = [
    "/paraview",
    "/paraview/",
    "/paraview//",
    "/paraview/abc",
    "/paraview/abc/",
    "/paraview/..%2F..%2Fetc",
    "/paraviewx",
    "/Paraview",
    "/_dashboard/api/sessions/x_y-z/log",
    "/_dashboard/api/sessions//log",
    "/my.app-v2/7",
    "/myxapp-v2/7",
    "/",
    "/metrics",
    "/metrics/",
    "/a/1/b/2",
    "/a/1/b/",
    "/%E0%A4%A",
    "/index.html",
  ];
  for (const source of patterns) {
    await t.step(source, () => {
      const pattern = new URLPattern({ pathname: source });
      const match = pathMatcher(pattern);
      for (const path of paths) {
        assert.deepEqual(match(path), pattern.exec({ pathname: path })?.pathname.groups, path);
      }
    });
  }
});
