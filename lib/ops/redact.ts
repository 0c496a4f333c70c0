/**
 * Keeps secrets out of the launcher's own log: the values of properties named like
 * secrets are masked before any sink formats a record.
 *
 * @module
 */

/** Property names whose values never reach a log. */
const SENSITIVE_KEY: RegExp = /secret|password|passwd|token|authkey|credential/i;

/**
 * Masks the values of properties named like secrets, at any depth.
 *
 * @param value a record's properties
 * @returns a copy with sensitive values replaced by `***`
 */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SENSITIVE_KEY.test(k) ? "***" : redact(v);
  return out;
}
