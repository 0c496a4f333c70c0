/**
 * The launcher's command line: what `main.ts` is asked to do.
 *
 * @module
 */

export { type Options, parseOptions, usage } from "./options.ts";
