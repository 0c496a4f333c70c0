/**
 * What a launch request becomes, with the config's templates compiled once: which application
 * it names, the client's values (sanitized), whether every template variable has a value, and
 * then, for the slot and secret the session gets, its argv and the answer its client is given.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { compileTemplate, DEFAULTS, type LauncherConfig, renderTemplate } from "../config/mod.ts";
import { sessionAnswer } from "./answer.ts";
import { UnknownApplicationError } from "./errors.ts";
import {
  type AppTemplates,
  checkVariables,
  clientValues,
  compileTemplates,
  lookupIn,
  renderSession,
  type Replaced,
  type SharedTemplates,
  unprovidedVariables,
} from "./launch_values.ts";

/** A launch request checked against the config, before anything is allocated for it. */
export interface CheckedRequest {
  /** The client's POSTed object. */
  body: Record<string, unknown>;
  /** Its application's templates. */
  templates: AppTemplates;
  /** The client's values, as templates see them. */
  client: Record<string, string>;
  /** The values a sanitize rule replaced. */
  replaced: Replaced[];
}

/** What a session was given: its id, where it listens, its secret. */
export interface Assigned {
  /** The session id. */
  id: string;
  /** Host of its process. */
  host: string;
  /** Port of its process. */
  port: number;
  /** The secret its process expects. */
  secret: string;
}

const logger = () => getLogger(["pvw-launcher", "sessions"]);

/** The config's templates, compiled once, and what launch requests become with them. */
export class LaunchTemplates {
  readonly #config: LauncherConfig;
  readonly #shared: SharedTemplates;
  readonly #apps: Map<string, AppTemplates>;

  /**
   * Compiles the config's templates.
   *
   * @param config the loaded config
   */
  constructor(config: LauncherConfig) {
    this.#config = config;
    const { shared, apps } = compileTemplates(config);
    this.#shared = shared;
    this.#apps = apps;
  }

  /** The configured application names. */
  get applications(): string[] {
    return [...this.#apps.keys()];
  }

  /**
   * Where a WebSocket to an application's bare session URL goes.
   *
   * @param application the application's name, which may no longer be configured
   * @returns its WebSocket path, such as `/ws`
   */
  wsPath(application: string): string {
    return this.#apps.get(application)?.app.wsPath ?? DEFAULTS.wsPath;
  }

  /**
   * Checks a launch request: its application, and a value for every variable (or, when
   * variables without one are kept as written, logs them).
   *
   * @param body the client's POSTed object
   * @returns the request, ready to render
   * @throws {UnknownApplicationError} for a missing or unknown `application`
   * @throws {MissingVariableError} when a template variable has no value
   */
  check(body: Record<string, unknown>): CheckedRequest {
    const named = typeof body.application === "string" ? body.application : undefined;
    const templates = named === undefined ? undefined : this.#apps.get(named);
    if (!templates) throw new UnknownApplicationError(named, this.applications);
    const { values: client, replaced } = clientValues(body, this.#config.sanitize);
    for (const r of replaced) {
      logger().warn("value of {key} did not pass its sanitize rule; using {replacement}", { ...r });
    }
    const { properties, unprovided } = this.#config;
    if (unprovided === "refuse") checkVariables(templates, properties, client);
    else {
      for (const variable of unprovidedVariables(templates, properties, client)) {
        logger().warn(
          "application {application}: nothing gives {variable} a value; it is passed as written",
          { application: templates.app.name, variable },
        );
      }
    }
    return { body, templates, client, replaced };
  }

  /**
   * Renders a session's argv and the answer its client is given.
   *
   * @param request the checked request
   * @param assigned what the session was given
   * @returns the argv, and the answer
   * @throws {MissingVariableError} when a variable has no value and none may be missing
   */
  render(
    request: CheckedRequest,
    assigned: Assigned,
  ): { argv: string[]; answer: Record<string, unknown> } {
    const { templates, client, replaced, body } = request;
    const { id, host, port, secret } = assigned;
    const rendered = renderSession(
      this.#shared,
      templates,
      {
        assigned: { id, host, port: String(port), secret, application: templates.app.name },
        properties: this.#config.properties,
        client,
      },
      this.#config.unprovided,
    );
    const answer = sessionAnswer(this.#config, {
      ...assigned,
      sessionUrl: rendered.sessionUrl,
      body,
      replaced: Object.fromEntries(replaced.map((r) => [r.key, r.replacement])),
      usesSecret: templates.usesSecret,
      sessionData: rendered.sessionData,
    });
    return { argv: rendered.argv, answer };
  }

  /**
   * Renders other templates of a session's application (its `slurm` values) with the values
   * its cmd is rendered with.
   *
   * @param request the checked request
   * @param assigned what the session was given
   * @returns renders one text
   * @throws {MissingVariableError} (from the renderer) when a variable has no value and none
   *   may be missing
   */
  renderer(request: CheckedRequest, assigned: Assigned): (text: string) => string {
    const { templates, client } = request;
    const { id, host, port, secret } = assigned;
    const lookup = lookupIn(
      { id, host, port: String(port), secret, application: templates.app.name },
      this.#config.properties,
      client,
    );
    const where = `application "${templates.app.name}"`;
    return (text) => renderTemplate(compileTemplate(text), lookup, where, this.#config.unprovided);
  }
}
