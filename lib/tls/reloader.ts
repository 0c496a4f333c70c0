/**
 * The certificate the launcher serves, kept current: SIGHUP re-reads the files (certbot-style
 * renewals replace them) and every TLS listener gets the new pair for its new connections;
 * a pair that cannot be served is refused with a log line and the one in service stays. Its
 * expiry is logged at start and after each reload, a warning from
 * {@linkcode EXPIRY_WARNING_DAYS} days before the end, and again every day while it lasts.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { CertificateInfo, TlsPair } from "./certificate.ts";
import { TlsPairError } from "./errors.ts";
import { DAY_MS, expiryOf } from "./expiry.ts";
import { type LoadedPair, loadPair, type TlsFiles } from "./pair_files.ts";

/** What serves a certificate: a {@linkcode TlsTerminator}, or a listener built on one. */
export interface CertificateTarget {
  /**
   * Serves a new pair to new connections.
   *
   * @throws {TlsPairError} the pair cannot be served: the old one stays
   */
  reload(pair: TlsPair): CertificateInfo;
}

/** How the reloader reads, and when it is. */
export interface ReloaderOptions {
  /** Reads and checks the files. @default {@linkcode loadPair} */
  load?: (files: TlsFiles, now: Date) => Promise<LoadedPair>;
  /** The clock. @default () => new Date() */
  now?: () => Date;
  /** How often the expiry is looked at again, in ms. @default one day */
  checkIntervalMs?: number;
}

/** Reloads and watched expiries so far. */
export interface ReloaderCounts {
  /** Pairs put in service by a reload. */
  reloads: number;
  /** Reloads refused: the pair in service stayed. */
  refused: number;
}

const logger = () => getLogger(["pvw-launcher", "tls"]);

/** The served certificate, and what SIGHUP does to it. */
export class CertificateReloader {
  readonly #files: TlsFiles;
  readonly #load: (files: TlsFiles, now: Date) => Promise<LoadedPair>;
  readonly #now: () => Date;
  readonly #intervalMs: number;
  readonly #targets: CertificateTarget[] = [];
  readonly #counts: ReloaderCounts = { reloads: 0, refused: 0 };
  #pair: LoadedPair;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Keeps a pair read and checked at start.
   *
   * @param pair the pair in service, as {@linkcode loadPair} read it
   * @param options how to read files, the clock, how often to look at the expiry
   */
  constructor(pair: LoadedPair, options: ReloaderOptions = {}) {
    this.#pair = pair;
    this.#files = pair.files;
    this.#load = options.load ?? ((files, now) => loadPair(files, { now }));
    this.#now = options.now ?? (() => new Date());
    this.#intervalMs = options.checkIntervalMs ?? DAY_MS;
  }

  /** The pair in service: what a new listener starts with. */
  get pair(): LoadedPair {
    return this.#pair;
  }

  /** What the certificate in service holds. */
  get certificate(): CertificateInfo {
    return this.#pair.info;
  }

  /** Reloads done and refused. */
  get counts(): ReloaderCounts {
    return { ...this.#counts };
  }

  /**
   * What `/metrics` says of it: the certificate's file and end, and the reloads.
   *
   * @returns the end in seconds since the epoch, with the counts
   */
  state(): { file: string; notAfterSeconds: number } & ReloaderCounts {
    const notAfterSeconds = Math.floor(this.certificate.notAfter.getTime() / 1000);
    return { file: this.#files.cert, notAfterSeconds, ...this.#counts };
  }

  /**
   * Adds a listener that gets each reloaded pair.
   *
   * @param target the listener
   */
  serve(target: CertificateTarget): void {
    this.#targets.push(target);
  }

  /**
   * Logs what the certificate holds and when it ends (a warning within the warning period),
   * and from then on looks at its expiry every day.
   */
  start(): void {
    this.#logExpiry("serving");
    this.#timer ??= setInterval(() => {
      if (expiryOf(this.certificate, this.#now()).warn) this.#logExpiry("serving");
    }, this.#intervalMs);
  }

  /** Stops the daily look at the expiry. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Reads the files again and serves the new pair, or refuses it (logged) and keeps the one in
   * service. Reloads run one after the other.
   *
   * @returns what the certificate in service holds afterwards, and whether it is a new one
   */
  reload(): Promise<{ certificate: CertificateInfo; reloaded: boolean }> {
    const done = this.#queue.then(() => this.#reload());
    this.#queue = done.catch(() => {});
    return done;
  }

  async #reload(): Promise<{ certificate: CertificateInfo; reloaded: boolean }> {
    let next: LoadedPair;
    try {
      next = await this.#load(this.#files, this.#now());
      // Each target checks the pair again with its own library; the first refusal stops it.
      for (const target of this.#targets) target.reload(next);
    } catch (err) {
      if (!(err instanceof TlsPairError)) throw err;
      this.#counts.refused++;
      logger().error(
        "TLS certificate not reloaded, keeping the one in service (serial {serial}): {error}",
        { serial: this.certificate.serial, error: err.message },
      );
      return { certificate: this.certificate, reloaded: false };
    }
    this.#pair = next;
    this.#counts.reloads++;
    this.#logExpiry("reloaded");
    return { certificate: next.info, reloaded: true };
  }

  #logExpiry(what: "serving" | "reloaded"): void {
    const info = this.certificate;
    const expiry = expiryOf(info, this.#now());
    const line = `${what === "reloaded" ? "reloaded: " : ""}${expiry.message}; serial ` +
      `${info.serial}, from ${this.#files.cert}`;
    if (expiry.warn) logger().warn(line);
    else logger().info(line);
  }
}
