/**
 * The dashboard's two HTML pages, built into the program: `assets/dashboard/` is imported as
 * text, so `deno bundle` inlines it and `deno compile` embeds it, and the launcher reads no
 * file of its source tree at run time. (The assets live outside `lib/` because
 * `deno doc --lint lib/` would try to parse an `.html` file there as a module.)
 *
 * Each page carries its style and script inline, and a Content-Security-Policy that allows
 * exactly those (by SHA-256 hash) and nothing else: no other script, no other site, no frame.
 *
 * @module
 */

import { createHash } from "node:crypto";
import css from "../../assets/dashboard/dashboard.css" with { type: "text" };
import script from "../../assets/dashboard/dashboard.js" with { type: "text" };
import indexHtml from "../../assets/dashboard/index.html" with { type: "text" };
import loginHtml from "../../assets/dashboard/login.html" with { type: "text" };

/** An HTML page and the headers it is served with. */
export interface Page {
  /** The document. */
  html: string;
  /** Headers for its answer: type, CSP, no framing, no caching. */
  headers: Record<string, string>;
}

function hash(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

/** Puts `body` in place of `<!-- @name -->`, whatever `$` sequences it holds. */
function fill(html: string, name: string, body: string): string {
  const marker = `<!-- @${name} -->`;
  if (!html.includes(marker)) throw new Error(`the page has no ${marker}`);
  return html.replace(marker, () => body);
}

function page(html: string, withScript: boolean): Page {
  let doc = fill(html, "style", `<style>${css}</style>`);
  if (withScript) doc = fill(doc, "script", `<script type="module">${script}</script>`);
  const csp = [
    "default-src 'none'",
    `style-src ${hash(css)}`,
    `script-src ${withScript ? hash(script) : "'none'"}`,
    "connect-src 'self'",
    "img-src data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  return {
    html: doc,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": csp,
      "x-frame-options": "DENY",
      "x-content-type-options": "nosniff",
      "referrer-policy": "same-origin",
      "cache-control": "no-store",
    },
  };
}

/**
 * The dashboard page.
 *
 * @returns the page and its headers
 */
export function dashboardPage(): Page {
  return page(indexHtml, true);
}

/**
 * The login page: a form that POSTs the token, and no script at all.
 *
 * @param failed whether the last attempt gave a wrong token
 * @returns the page and its headers
 */
export function loginPage(failed: boolean): Page {
  const message = failed
    ? '<p class="login-error" role="alert">That token is not valid. Try again.</p>'
    : "";
  return page(fill(loginHtml, "message", message), false);
}
