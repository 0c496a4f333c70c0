/**
 * The settings of TLS built into the launcher, spelt the same in both formats (at the top
 * level of the spec format, inside `configuration` in wslink's): the certificate chain and the
 * private key (`tls_cert` and `tls_key`, or a `tls` section `{"cert": ..., "key": ...}`), and
 * the optional plain-HTTP listener that only redirects to HTTPS (`redirect_http`).
 *
 * Only the keys are read here; whether the files can be served is checked with the paths
 * (`tls_check.ts`), since it reads them.
 *
 * @module
 */

import type { Fields, Value } from "./reader.ts";
import type { LauncherConfig } from "./types.ts";
import { readListen } from "./network.ts";
import { readPath, withoutUndefined } from "./values.ts";

/** The keys read here, in both formats. */
export const TLS_KEYS: readonly string[] = ["tls", "tls_cert", "tls_key", "redirect_http"];

const SECTION_KEYS = ["cert", "key"] as const;
const SECTION_EXAMPLE = '{"cert": "/etc/pvw/fullchain.pem", "key": "/etc/pvw/privkey.pem"}';

/** The part of the model read here. */
export type TlsSettings = Pick<LauncherConfig, "tls" | "redirectHttp">;

/** What the settings are checked against. */
export interface TlsContext {
  /** Absolute folder of the config file, for relative paths. */
  baseDir: string;
  /** The launcher's own port, which the redirect listener cannot take too. */
  listenPort: number;
  /** The dashboard's own port, if it has a listener. */
  dashboardPort?: number;
}

/**
 * Reads the TLS settings. Problems are recorded, not thrown.
 *
 * @param fields the object that holds them, undefined when it is absent
 * @param context the config's folder and the ports already taken
 * @returns the settings; absent ones are left out
 */
export function readTlsSettings(fields: Fields | undefined, context: TlsContext): TlsSettings {
  const tls = readPair(fields, context.baseDir);
  const redirectValue = fields?.get("redirect_http");
  const redirectHttp = redirectValue && readListen(redirectValue);
  if (redirectValue && redirectHttp) {
    if (!tls && !fields?.get("tls") && !fields?.get("tls_cert")) {
      redirectValue.error(
        "redirect_http sends clients to HTTPS, which needs tls_cert and tls_key: set them too",
      );
    }
    const port = redirectHttp.port;
    const clash = port === 0
      ? undefined
      : port === context.listenPort
      ? "the launcher's own"
      : port === context.dashboardPort
      ? "the dashboard's"
      : undefined;
    if (clash) {
      redirectValue.error(
        `port ${port} is ${clash}: the redirect listener needs a port of its own`,
      );
    }
  }
  return withoutUndefined({ tls, redirectHttp });
}

/** Reads `tls_cert` and `tls_key`, or the `tls` section, into absolute paths. */
function readPair(fields: Fields | undefined, baseDir: string): LauncherConfig["tls"] {
  const section = fields?.get("tls");
  const flat = [fields?.get("tls_cert"), fields?.get("tls_key")];
  if (section && flat.some((v) => v !== undefined)) {
    section.atKey(
      "error",
      'give the certificate and key either as "tls_cert" and "tls_key" or in a "tls" ' +
        "section, not both",
    );
    return undefined;
  }
  if (section) return readSection(section, baseDir);
  const [certValue, keyValue] = flat;
  if (!certValue && !keyValue) return undefined;
  if (!certValue || !keyValue) {
    const [given, missing] = certValue ? ["tls_cert", "tls_key"] : ["tls_key", "tls_cert"];
    (certValue ?? keyValue)!.atKey(
      "error",
      `${given} needs ${missing}: TLS takes a certificate chain and its private key`,
    );
    return undefined;
  }
  const cert = readPath(certValue, baseDir);
  const key = readPath(keyValue, baseDir);
  return cert !== undefined && key !== undefined ? { cert, key } : undefined;
}

function readSection(value: Value, baseDir: string): LauncherConfig["tls"] {
  if (value.node.type !== "object") return value.expected(`an object such as ${SECTION_EXAMPLE}`);
  const fields = value.fields(SECTION_KEYS);
  const certValue = fields?.require("cert");
  const keyValue = fields?.require("key");
  const cert = certValue && readPath(certValue, baseDir);
  const key = keyValue && readPath(keyValue, baseDir);
  return cert !== undefined && key !== undefined ? { cert, key } : undefined;
}
