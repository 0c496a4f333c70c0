/**
 * The values a session's templates are rendered with, and the precedence between them:
 * what the launcher assigns (`id`, `host`, `port`, `secret`, `sessionURL`, `application`)
 * first, then the admin's `properties`, then the client's POSTed keys. A client can never
 * replace a property (the wslink launcher let it replace the executable path).
 *
 * @module
 */

import {
  type AppConfig,
  ASSIGNED_NAMES,
  type CompiledTemplate,
  compileTemplate,
  type LauncherConfig,
  type MissingValues,
  MissingVariableError,
  renderTemplate,
  type SanitizeRule,
} from "../config/mod.ts";

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
  /** Whether the argv uses `secret`. */
  usesSecret: boolean;
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
    const usesSecret = cmd.some((t) => t.variables.includes("secret"));
    apps.set(app.name, { app, cmd, variables, usesSecret });
  }
  return { shared, apps };
}

/**
 * Finds, before anything is allocated, the variables of an application's templates that
 * nothing provides: neither the launcher, the admin's properties nor the client.
 *
 * @param templates the app's templates
 * @param properties the admin's properties
 * @param client the client's values
 * @returns the variables without a value, in order of first use
 */
export function unprovidedVariables(
  templates: AppTemplates,
  properties: Record<string, string>,
  client: Record<string, string>,
): string[] {
  return [...templates.variables].filter((name) =>
    !ASSIGNED_NAMES.includes(name) && !Object.hasOwn(properties, name) &&
    !Object.hasOwn(client, name)
  );
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
  const [name] = unprovidedVariables(templates, properties, client);
  if (name !== undefined) {
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
 * @param values the launcher's values (`assigned`, without `sessionURL`, which is rendered here
 *   first), the admin's `properties` and the `client`'s, in that precedence
 * @param missing what to do with a variable that has no value (see `LauncherConfig.unprovided`)
 * @returns the rendered strings
 * @throws {MissingVariableError} when a variable has no value and `missing` is `"refuse"`
 */
export function renderSession(
  shared: SharedTemplates,
  templates: AppTemplates,
  values: {
    assigned: Record<string, string>;
    properties: Record<string, string>;
    client: Record<string, string>;
  },
  missing: MissingValues = "refuse",
): RenderedSession {
  const { assigned, properties, client } = values;
  const where = `application "${templates.app.name}"`;
  const render = (t: CompiledTemplate, lookup: (name: string) => string | undefined) =>
    renderTemplate(t, lookup, where, missing);
  const sessionUrl = render(shared.sessionUrl, lookupIn(assigned, properties, client));
  const lookup = lookupIn({ ...assigned, sessionURL: sessionUrl }, properties, client);
  const argv = templates.cmd.map((t) => render(t, lookup));
  const sessionData: Record<string, string> = {};
  for (const [key, t] of shared.sessionData) sessionData[key] = render(t, lookup);
  return { sessionUrl, argv, sessionData };
}
