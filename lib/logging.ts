/**
 * Log sinks for the launcher's own log: human-readable text or JSON lines, written
 * synchronously to a stream, with the values of secret-looking properties masked.
 *
 * @module
 */

import {
  getTextFormatter,
  jsonLinesFormatter,
  type LogRecord,
  type Sink,
  type TextFormatter,
} from "@logtape/logtape";

/** Property names whose values never reach a log. */
export const SENSITIVE_KEY: RegExp = /secret|password|passwd|token|authkey|credential/i;

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

/** Anything lines can be written to synchronously. */
export interface LineWriter {
  /** Writes bytes. */
  writeSync(bytes: Uint8Array): number;
}

/**
 * A sink that formats each record and writes it at once.
 *
 * @param target where lines go (stderr, or a log file); a function to allow re-opening
 * @param format `text` (human-readable) or `json` (one JSON object a line)
 * @returns the sink
 */
export function lineSink(target: () => LineWriter, format: "text" | "json"): Sink {
  const formatter: TextFormatter = format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time-tz", level: "ABBR" });
  const encoder = new TextEncoder();
  return (record: LogRecord) => {
    const safe = { ...record, properties: redact(record.properties) as Record<string, unknown> };
    const bytes = encoder.encode(formatter(safe));
    const out = target();
    for (let off = 0; off < bytes.length;) off += out.writeSync(bytes.subarray(off));
  };
}
