/**
 * Summaries of samples (median, p90, p99) and the few number formats the table uses.
 *
 * @module
 */

/** A summary of samples. */
export interface Summary {
  /** Number of samples. */
  n: number;
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Smallest sample. */
  min: number;
  /** Largest sample. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * The `q` quantile of sorted samples, interpolated linearly between the closest ranks.
 *
 * @param sorted samples in ascending order, at least one
 * @param q from 0 to 1
 * @returns the quantile
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Summarizes samples.
 *
 * @param samples the samples, in any order
 * @returns their summary (NaN fields when there are none)
 */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
    min: sorted[0] ?? NaN,
    max: sorted.at(-1) ?? NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/** A duration in ms, with a precision that suits its size. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return "–";
  if (value < 1) return `${value.toFixed(3)} ms`;
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 1000) return `${value.toFixed(1)} ms`;
  return `${(value / 1000).toFixed(2)} s`;
}

/** A number with thousands separators and `digits` decimals. */
export function num(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** Bytes as MiB. */
export function mib(bytes: number, digits = 1): string {
  return `${num(bytes / 1024 / 1024, digits)} MiB`;
}

/** A ratio `a / b` as `12.3×`. */
export function times(a: number, b: number): string {
  const r = a / b;
  if (!Number.isFinite(r)) return "–";
  return `${r >= 100 ? num(r) : r.toFixed(r >= 10 ? 1 : 2)}×`;
}
