/**
 * A private certificate authority made at test time with Debian's `openssl`, and the
 * certificates and keys the TLS tests need: a leaf for `127.0.0.1`/`localhost` (RSA), a renewed
 * leaf (EC, another serial), a mismatched key, expired and not-yet-valid leaves, an encrypted
 * key, an X.509 v1 certificate, and a self-signed certificate no one trusts.
 *
 * @module
 */

import { join } from "node:path";
import { Needs } from "../e2e/tools.ts";

/** Debian's openssl. */
export const OPENSSL = "/usr/bin/openssl";

/** What the TLS tests need on the machine (installed by `.ci/setup-extra`). */
export const PKI_NEEDS: Needs = new Needs("TLS tests (openssl)", [OPENSSL]);

/** A certificate file and its key file, with their PEM text. */
export interface TestPair {
  /** The certificate chain (leaf first, then the CA), PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
  /** Where the chain is. */
  certFile: string;
  /** Where the key is (mode 0600). */
  keyFile: string;
  /** The leaf's serial, upper-case hex as `node:crypto` prints it. */
  serial: string;
}

/** What a leaf is made with. */
export interface LeafOptions {
  /** `rsa` (2048 bits) or `ec` (P-256). @default "ec" */
  keyType?: "rsa" | "ec";
  /** Validity start, as `openssl ca` takes it (`YYYYMMDDHHMMSSZ`). @default one hour ago */
  start?: Date;
  /** Validity end. @default in two days */
  end?: Date;
  /** The subjectAltName extension, or `false` for none. @default "IP:127.0.0.1,DNS:localhost" */
  san?: string | false;
  /** A key file to certify instead of making a new key. */
  keyFile?: string;
}

const HOUR = 3600_000;

/** `2026-11-29T10:00:00Z` as `openssl ca` wants it: `20261129100000Z`. */
function opensslTime(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z");
}

/** A private CA in a temporary folder. */
export class TestPki {
  /** The folder holding every file. */
  readonly dir: string;
  /** The CA certificate, PEM: what clients trust. */
  readonly ca: string;
  /** Where the CA certificate is. */
  readonly caFile: string;
  #count = 0;

  private constructor(dir: string, ca: string) {
    this.dir = dir;
    this.ca = ca;
    this.caFile = join(dir, "ca.pem");
  }

  /** Makes a CA (EC P-256, valid two days) in a new temporary folder. */
  static async create(): Promise<TestPki> {
    const dir = await Deno.makeTempDir({ prefix: "pvw-tls-" });
    await Deno.writeTextFile(join(dir, "index.txt"), "");
    await Deno.writeTextFile(join(dir, "serial"), "01\n");
    await Deno.mkdir(join(dir, "issued"));
    await Deno.writeTextFile(join(dir, "ca.cnf"), caConfig(dir));
    await openssl(dir, [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=pvw test CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]); // deno-fmt-ignore
    return new TestPki(dir, await Deno.readTextFile(join(dir, "ca.pem")));
  }

  /** Deletes the folder. */
  async remove(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }

  /**
   * Makes a private key (mode 0600).
   *
   * @returns its path
   */
  async key(keyType: "rsa" | "ec" = "ec"): Promise<string> {
    const file = join(this.dir, `k${++this.#count}.key`);
    const algorithm = keyType === "rsa"
      ? ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
      : ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];
    await openssl(this.dir, ["genpkey", ...algorithm, "-out", file]);
    await Deno.chmod(file, 0o600);
    return file;
  }

  /** Makes a certificate signing request for `localhost` with a key; returns its path. */
  async #request(keyFile: string, name: string): Promise<string> {
    const csr = join(this.dir, name);
    await openssl(this.dir, [
      "req",
      "-new",
      "-key",
      keyFile,
      "-subj",
      "/CN=localhost",
      "-out",
      csr,
    ]);
    return csr;
  }

  /** Makes a leaf certificate signed by the CA, its chain file and its key. */
  async leaf(options: LeafOptions = {}): Promise<TestPair> {
    const keyFile = options.keyFile ?? await this.key(options.keyType);
    const n = ++this.#count;
    const csr = await this.#request(keyFile, `c${n}.csr`);
    const crt = join(this.dir, `c${n}.crt`);
    const now = Date.now();
    await openssl(this.dir, [
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-notext",
      "-rand_serial",
      "-in",
      csr,
      "-out",
      crt,
      "-startdate",
      opensslTime(options.start ?? new Date(now - HOUR)),
      "-enddate",
      opensslTime(options.end ?? new Date(now + 48 * HOUR)),
      "-extensions",
      options.san === false ? "no_san" : "leaf",
    ], { SAN: options.san || "IP:127.0.0.1,DNS:localhost" }); // deno-fmt-ignore
    const certFile = join(this.dir, `c${n}.chain.pem`);
    const leaf = await Deno.readTextFile(crt);
    await Deno.writeTextFile(certFile, leaf + this.ca);
    return await this.#pair(certFile, keyFile);
  }

  /** A self-signed certificate for `127.0.0.1`/`localhost` that the CA did not sign. */
  async untrusted(): Promise<TestPair> {
    const n = ++this.#count;
    const keyFile = join(this.dir, `u${n}.key`);
    const certFile = join(this.dir, `u${n}.crt`);
    await openssl(this.dir, [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]); // deno-fmt-ignore
    await Deno.chmod(keyFile, 0o600);
    return await this.#pair(certFile, keyFile);
  }

  /** An X.509 version 1 certificate (no extensions), which TLS libraries refuse. */
  async version1(keyFile: string): Promise<string> {
    const n = ++this.#count;
    const csr = await this.#request(keyFile, `v${n}.csr`);
    const crt = join(this.dir, `v${n}.crt`);
    await openssl(this.dir, [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      crt,
    ]); // deno-fmt-ignore
    return await Deno.readTextFile(crt);
  }

  /** The key of `keyFile` encrypted with a passphrase: PKCS#8, or OpenSSL's old PEM form. */
  async encrypted(keyFile: string, form: "pkcs8" | "traditional"): Promise<string> {
    const args = form === "pkcs8"
      ? ["pkey", "-in", keyFile, "-aes256", "-passout", "pass:secret"]
      : ["rsa", "-in", keyFile, "-traditional", "-aes256", "-passout", "pass:secret"];
    return await openssl(this.dir, args);
  }

  /** The key of `keyFile` in its algorithm's own PEM form (`RSA PRIVATE KEY`, `EC PRIVATE KEY`). */
  async traditional(keyFile: string, keyType: "rsa" | "ec"): Promise<string> {
    // `openssl ec` writes SEC1 (`EC PRIVATE KEY`) by default; `openssl rsa` needs to be told.
    const args = keyType === "rsa"
      ? ["rsa", "-in", keyFile, "-traditional"]
      : ["ec", "-in", keyFile];
    return await openssl(this.dir, args);
  }

  async #pair(certFile: string, keyFile: string): Promise<TestPair> {
    const cert = await Deno.readTextFile(certFile);
    const serial = (await openssl(this.dir, ["x509", "-in", certFile, "-noout", "-serial"]))
      .trim().replace(/^serial=/, "").replace(/^0+(?=.)/, "");
    return { cert, key: await Deno.readTextFile(keyFile), certFile, keyFile, serial };
  }
}

function caConfig(dir: string): string {
  return `[ca]
default_ca = test_ca
[test_ca]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/issued
serial = ${dir}/serial
certificate = ${dir}/ca.pem
private_key = ${dir}/ca.key
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
[leaf]
subjectAltName = \${ENV::SAN}
extendedKeyUsage = serverAuth
basicConstraints = CA:FALSE
[no_san]
extendedKeyUsage = serverAuth
basicConstraints = CA:FALSE
`;
}

/** Runs openssl in `dir`; returns its standard output, or throws with its error output. */
async function openssl(dir: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(OPENSSL, { args, cwd: dir, env, stdin: "null" }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) throw new Error(`openssl ${args.join(" ")}: ${decode(out.stderr)}`);
  return decode(out.stdout);
}
