/**
 * Matching request paths against the route table's `URLPattern`s, fast: `URLPattern.exec`
 * costs microseconds, the bulk of a GET's time under load.
 *
 * @module
 */

import type { Route } from "./route_types.ts";

/**
 * A route with a faster matcher. `URLPattern.exec` costs microseconds, the bulk of a GET's
 * time under load, so the simple patterns the launcher uses (literal text, `:name` segments,
 * `{/}?`, a final `*`) are also compiled to a `RegExp`; any other pattern keeps `exec`.
 */
export interface IndexedRoute extends Route {
  /** Matches a path as the pattern would. */
  match: (pathname: string) => Record<string, string | undefined> | undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\/*-]/g, "\\$&");
}

/** Compiles a simple URLPattern pathname to a RegExp, or undefined when it is not simple. */
function simplePattern(source: string): RegExp | undefined {
  let re = "";
  for (const token of source.split(/(:[A-Za-z_][A-Za-z0-9_]*|\{\/\}\?|\*)/)) {
    if (token === "") continue;
    if (token.startsWith(":")) re += `(?<${token.slice(1)}>[^/]+)`;
    else if (token === "{/}?") re += "/?";
    else if (token === "*") re += "(?<_0>.*)";
    else if (/[(){}\\:*+?]/.test(token)) return undefined;
    else re += escapeRegExp(token);
  }
  return new RegExp(`^${re}$`);
}

/**
 * A route with its fast matcher.
 *
 * @param r the route
 * @returns the route, with `match`
 */
export function indexed(r: Route): IndexedRoute {
  return { ...r, match: pathMatcher(r.pattern) };
}

/**
 * A function that matches a path as `pattern.exec` would, faster for simple patterns.
 *
 * @param pattern the route's pattern
 * @returns the path groups of a match, or undefined
 */
export function pathMatcher(
  pattern: URLPattern,
): (pathname: string) => Record<string, string | undefined> | undefined {
  const re = simplePattern(pattern.pathname);
  if (!re) return (pathname) => pattern.exec({ pathname })?.pathname.groups;
  return (pathname) => {
    const m = re.exec(pathname);
    if (!m) return undefined;
    const groups: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(m.groups ?? {})) {
      groups[name === "_0" ? "0" : name] = value;
    }
    return groups;
  };
}
