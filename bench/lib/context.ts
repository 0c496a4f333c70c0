/**
 * What every scenario gets: the run's cleanup and temp folder, the tools found, the round
 * counts (full, or small with `--quick`), fixtures shared by several scenarios, and the
 * table the results go into.
 *
 * @module
 */

import type { Cleanup } from "./cleanup.ts";
import type { Tools } from "./tools.ts";

/** met / MISSED for a target; skipped when its baseline is missing. */
export type Verdict = "met" | "MISSED" | "skipped";

/** One line of the results table. */
export interface Row {
  /** Scenario name. */
  scenario: string;
  /** What was measured (the launcher, the baseline). */
  subject: string;
  /** Samples or rounds. */
  n: string;
  /** Median (or the one value). */
  p50: string;
  /** 90th percentile, or a second figure. */
  p90: string;
  /** 99th percentile, or a third figure. */
  p99: string;
  /** Against the baseline: difference and ratio. */
  compared: string;
  /** The target for this row. */
  target?: string;
  /** Whether it was met. */
  verdict?: Verdict;
}

/** A fixture shared by scenarios, disposed once none of the remaining ones needs it. */
export interface Fixture {
  /** Releases it. */
  dispose(): Promise<void>;
}

/** The run. */
export class Context {
  readonly rows: Row[] = [];
  readonly notes: string[] = [];
  #fixtures = new Map<string, Promise<Fixture>>();

  constructor(
    readonly cleanup: Cleanup,
    readonly root: string,
    readonly tools: Tools,
    readonly quick: boolean,
  ) {}

  /** `full` in a real run, `quick` with `--quick`. */
  scale(full: number, quick: number): number {
    return this.quick ? quick : full;
  }

  /** Adds a row. */
  row(row: Row): void {
    this.rows.push(row);
  }

  /** Adds a note under the table. */
  note(scenario: string, text: string): void {
    this.notes.push(`${scenario}: ${text}`);
  }

  /** Progress, on stderr. */
  log(text: string): void {
    console.error(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
  }

  /** The fixture `key`, made by `make` the first time. */
  fixture<T extends Fixture>(key: string, make: () => Promise<T>): Promise<T> {
    let f = this.#fixtures.get(key);
    if (!f) {
      f = make();
      this.#fixtures.set(key, f);
    }
    return f as Promise<T>;
  }

  /** Disposes the fixtures not in `keep`. */
  async release(keep: Set<string>): Promise<void> {
    for (const [key, f] of [...this.#fixtures]) {
      if (keep.has(key)) continue;
      this.#fixtures.delete(key);
      const fixture = await f.catch(() => undefined);
      await fixture?.dispose();
    }
  }
}

/** A verdict from a condition. */
export function verdict(ok: boolean): Verdict {
  return ok ? "met" : "MISSED";
}

/** A subject of an interleaved comparison. */
export interface Subject {
  /** Runs one round. */
  run(round: number): Promise<void>;
  /** Rounds it takes part in, spread evenly over all rounds. @default all */
  rounds?: number;
}

/**
 * Runs the subjects in turn, round after round (A, B, A, B, ...). A subject with fewer
 * rounds (a slow baseline) takes part in rounds spread evenly over the run.
 */
export async function interleave(rounds: number, subjects: (Subject | undefined)[]): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) {
      if (!s) continue;
      const k = Math.min(s.rounds ?? rounds, rounds);
      if (Math.floor(((r + 1) * k) / rounds) > Math.floor((r * k) / rounds)) await s.run(r);
    }
  }
}
