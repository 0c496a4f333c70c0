/**
 * The values a session's templates are rendered with, and the precedence between them:
 * what the launcher assigns (`id`, `host`, `port`, `secret`, `sessionURL`, `application`)
 * first, then the admin's `properties`, then the client's POSTed keys. A client can never
 * replace a property (the wslink launcher let it replace the executable path).
 *
 * @module
 */

import type { AppConfig, LauncherConfig, SanitizeRule } from "./config_types.ts";
import { MissingVariableError } from "./errors.ts";
import { type CompiledTemplate, compileTemplate, renderTemplate } from "./template.ts";

/** Names whose values the launcher assigns to every session. */
export const ASSIGNED_NAMES: readonly string[] = [
  "id",
  "host",
  "port",
  "secret",
  "sessionURL",
  "application",
];

/** A client value that a sanitize rule replaced. */
export interface Replaced {
  /** The key whose value was replaced. */
  key: string;
  /** The value that took its place. */
  replacement: string;
}

/**
 * Turns the client's scalar values into template values, applying wslink `sanitize` rules.
 *
 * @param body the parsed POST body
 * @param rules sanitize rules by key
 * @returns the values, and which keys a rule replaced
 */
export function clientValues(
  body: Record<string, unknown>,
  rules: Record<string, SanitizeRule>,
): { values: Record<string, string>; replaced: Replaced[] } {
  const values: Record<string, string> = {};
  const replaced: Replaced[] = [];
  for (const [key, raw] of Object.entries(body)) {
    if (typeof raw !== "string" && typeof raw !== "number" && typeof raw !== "boolean") continue;
    const value = String(raw);
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (rule && !passes(rule, value)) {
      values[key] = rule.default;
      replaced.push({ key, replacement: rule.default });
    } else {
      values[key] = value;
    }
  }
  return { values, replaced };
}

function passes(rule: SanitizeRule, value: string): boolean {
  return rule.type === "regexp" ? rule.pattern.test(value) : rule.list.includes(value);
}

/** The compiled templates of one application. */
export interface AppTemplates {
  /** The application. */
  app: AppConfig;
  /** One template per argv element. */
  cmd: CompiledTemplate[];
  /** Every variable the app's argv, the session URL and the session data use. */
  variables: Set<string>;
}

/** The compiled templates shared by every application. */
export interface SharedTemplates {
  /** The `sessionURL` / `proxy_url` template. */
  sessionUrl: CompiledTemplate;
  /** wslink `sessionData` templates by key. */
  sessionData: [string, CompiledTemplate][];
}

/**
 * Compiles every template of a config once.
 *
 * @param config the loaded config (its templates were checked when it was parsed)
 * @returns the shared templates and each app's
 */
export function compileTemplates(
  config: LauncherConfig,
): { shared: SharedTemplates; apps: Map<string, AppTemplates> } {
  const shared: SharedTemplates = {
    sessionUrl: compileTemplate(config.sessionUrl),
    sessionData: Object.entries(config.sessionData).map(([k, v]) => [k, compileTemplate(v)]),
  };
  const apps = new Map<string, AppTemplates>();
  for (const app of Object.values(config.apps)) {
    const cmd = app.cmd.map((c) => compileTemplate(c));
    const variables = new Set<string>();
    for (const t of [...cmd, shared.sessionUrl, ...shared.sessionData.map(([, t]) => t)]) {
      for (const v of t.variables) variables.add(v);
    }
    apps.set(app.name, { app, cmd, variables });
  }
  return { shared, apps };
}

/**
 * Checks, before anything is allocated, that every variable has a value.
 *
 * @param templates the app's templates
 * @param properties the admin's properties
 * @param client the client's values
 * @throws {MissingVariableError} naming the application and the first missing key
 */
export function checkVariables(
  templates: AppTemplates,
  properties: Record<string, string>,
  client: Record<string, string>,
): void {
  for (const name of templates.variables) {
    if (ASSIGNED_NAMES.includes(name)) continue;
    if (Object.hasOwn(properties, name) || Object.hasOwn(client, name)) continue;
    throw new MissingVariableError(name, `application "${templates.app.name}"`);
  }
}

/**
 * Builds the lookup that templates are rendered with.
 *
 * @param assigned the launcher's values (highest precedence)
 * @param properties the admin's properties
 * @param client the client's values (lowest precedence)
 * @returns a lookup by variable name
 */
export function lookupIn(
  assigned: Record<string, string>,
  properties: Record<string, string>,
  client: Record<string, string>,
): (name: string) => string | undefined {
  return (name) => {
    if (Object.hasOwn(assigned, name)) return assigned[name];
    if (Object.hasOwn(properties, name)) return properties[name];
    if (Object.hasOwn(client, name)) return client[name];
    return undefined;
  };
}

/** Everything rendered for one session. */
export interface RenderedSession {
  /** The URL clients connect to. */
  sessionUrl: string;
  /** The argv. */
  argv: string[];
  /** wslink session data by key. */
  sessionData: Record<string, string>;
}

/**
 * Renders a session's URL, argv and session data.
 *
 * @param shared the shared templates
 * @param templates the app's templates
 * @param assigned the launcher's values, without `sessionURL` (rendered here first)
 * @param properties the admin's properties
 * @param client the client's values
 * @returns the rendered strings
 * @throws {MissingVariableError} when a variable has no value
 */
export function renderSession(
  shared: SharedTemplates,
  templates: AppTemplates,
  assigned: Record<string, string>,
  properties: Record<string, string>,
  client: Record<string, string>,
): RenderedSession {
  const where = `application "${templates.app.name}"`;
  const sessionUrl = renderTemplate(
    shared.sessionUrl,
    lookupIn(assigned, properties, client),
    where,
  );
  const lookup = lookupIn({ ...assigned, sessionURL: sessionUrl }, properties, client);
  const argv = templates.cmd.map((t) => renderTemplate(t, lookup, where));
  const sessionData: Record<string, string> = {};
  for (const [key, t] of shared.sessionData) sessionData[key] = renderTemplate(t, lookup, where);
  return { sessionUrl, argv, sessionData };
}
