/**
 * How long the served certificate has left: logged at start and after each reload, a warning
 * from {@linkcode EXPIRY_WARNING_DAYS} days before the end, and a value for a metric.
 *
 * @module
 */

/** From how many days before its end an expiring certificate is warned about. */
export const EXPIRY_WARNING_DAYS = 14;

/** A day, in ms. */
export const DAY_MS = 86_400_000;

/** Where a certificate stands against its end of validity. */
export interface Expiry {
  /** Its end of validity. */
  notAfter: Date;
  /** The end in seconds since the epoch, for a gauge such as `pvw_launcher_tls_certificate_expiry_seconds`. */
  expiresAtSeconds: number;
  /** Whole days left, rounded down; negative once expired. */
  daysLeft: number;
  /** Whether it is within the warning period, or expired. */
  warn: boolean;
  /** Whether it has expired. */
  expired: boolean;
  /** A sentence for the log. */
  message: string;
}

/**
 * Says how long a certificate has left.
 *
 * @param certificate its end of validity and the names it serves
 * @param now the time to measure from
 * @param warningDays how many days before the end to warn @default 14
 * @returns the figures, whether to warn, and a log sentence
 * @example
 * ```ts ignore
 * const expiry = expiryOf(terminator.certificate, new Date());
 * if (expiry.warn) log.warn(expiry.message); else log.info(expiry.message);
 * ```
 */
export function expiryOf(
  certificate: { notAfter: Date; names?: string[] },
  now: Date,
  warningDays: number = EXPIRY_WARNING_DAYS,
): Expiry {
  const { notAfter } = certificate;
  const leftMs = notAfter.getTime() - now.getTime();
  const daysLeft = Math.floor(leftMs / DAY_MS);
  const expired = leftMs <= 0;
  const warn = leftMs < warningDays * DAY_MS;
  const what = certificate.names?.length
    ? `the TLS certificate for ${certificate.names.join(", ")}`
    : "the TLS certificate";
  const when = notAfter.toISOString();
  const message = expired
    ? `${what} expired on ${when}: renew it, then send SIGHUP`
    : warn
    ? `${what} expires in ${plural(daysLeft)} (${when}): renew it, then send SIGHUP`
    : `${what} is valid until ${when} (${plural(daysLeft)} left)`;
  return {
    notAfter,
    expiresAtSeconds: Math.floor(notAfter.getTime() / 1000),
    daysLeft,
    warn,
    expired,
    message,
  };
}

function plural(days: number): string {
  if (days === 0) return "less than a day";
  return days === 1 ? "1 day" : `${days} days`;
}
