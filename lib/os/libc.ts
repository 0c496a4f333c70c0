/**
 * The few C library calls the launcher needs that Deno does not offer, through FFI (Linux,
 * glibc): the addresses of a socket and `shutdown(2)`, to close connections that the HTTP
 * server holds but gives no handle to; `getrlimit`/`setrlimit` for the descriptor limit; and
 * `fallocate(2)`, to drop the start of a session log that its process keeps appending to; and
 * `open(2)`/`close(2)` of a descriptor kept in reserve, for when the process runs out.
 *
 * Nothing is loaded at import: {@linkcode Libc.open} loads the library.
 *
 * @module
 */

/** An IP socket address. */
export interface SocketAddress {
  /** The address as Deno's `NetAddr.hostname` writes it (`127.0.0.1`, `::1`). */
  hostname: string;
  /** The port. */
  port: number;
}

/** A descriptor limit. */
export interface DescriptorLimit {
  /** The soft limit: what the process may open now. */
  soft: number;
  /** The hard limit: how far the process may raise the soft one. */
  hard: number;
}

const SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  fallocate: { parameters: ["i32", "i32", "i64", "i64"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  // Off the event loop: dropping a range of a file being written can take tens of ms.
  fallocateAsync: {
    name: "fallocate",
    parameters: ["i32", "i32", "i64", "i64"],
    result: "i32",
    nonblocking: true,
  },
} as const;

const AF_INET = 2;
const AF_INET6 = 10;
const SHUT_RDWR = 2;
const SOL_SOCKET = 1;
const SO_COOKIE = 57;
const RLIMIT_NOFILE = 7;
const RLIM_INFINITY = 0xffffffffffffffffn;
/** `fallocate` modes. */
const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
const FALLOC_FL_COLLAPSE_RANGE = 0x08;
const O_RDONLY_CLOEXEC = 0o2000000;
const DEV_NULL = new TextEncoder().encode("/dev/null\0");

/** The C library, loaded. */
export class Libc {
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  // Buffers reused by every call: the socket table calls these thousands of times a sweep.
  readonly #addr = new Uint8Array(28);
  readonly #addrLength = new Uint32Array(1);
  readonly #cookie = new BigUint64Array(1);
  readonly #cookieLength = new Uint32Array(1);

  private constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>) {
    this.#lib = lib;
  }

  /**
   * Loads the C library.
   *
   * @returns it, or undefined where it cannot be loaded (not Linux with glibc, no FFI)
   */
  static open(): Libc | undefined {
    if (Deno.build.os !== "linux") return undefined;
    try {
      return new Libc(Deno.dlopen("libc.so.6", SYMBOLS));
    } catch {
      return undefined;
    }
  }

  /**
   * The local or the remote address of an IP socket.
   *
   * @param fd a descriptor of this process
   * @param remote the peer's address rather than the local one
   * @returns the address, or undefined when `fd` is no IP socket or has no peer
   */
  socketAddress(fd: number, remote: boolean): SocketAddress | undefined {
    const port = this.#address(fd, remote);
    if (port === undefined) return undefined;
    const buf = this.#addr;
    const family = buf[0] | (buf[1] << 8);
    if (family === AF_INET) return { hostname: buf.subarray(4, 8).join("."), port };
    return { hostname: ipv6Text(buf.subarray(8, 24)), port };
  }

  /**
   * The local port of an IP socket, without building its address.
   *
   * @param fd a descriptor of this process
   * @returns the port, or undefined when `fd` is no IP socket
   */
  localPort(fd: number): number | undefined {
    return this.#address(fd, false);
  }

  /**
   * A socket's cookie: a number the kernel gives each socket, never reused while it runs.
   *
   * @param fd a descriptor of this process
   * @returns the cookie, or undefined when `fd` is no socket
   */
  socketCookie(fd: number): bigint | undefined {
    this.#cookieLength[0] = 8;
    const call = this.#lib.symbols.getsockopt;
    return call(fd, SOL_SOCKET, SO_COOKIE, this.#cookie, this.#cookieLength) === 0
      ? this.#cookie[0]
      : undefined;
  }

  /** Reads a socket's address into the shared buffer; answers its port if it is IPv4 or IPv6. */
  #address(fd: number, remote: boolean): number | undefined {
    const buf = this.#addr;
    this.#addrLength[0] = buf.length;
    const call = remote ? this.#lib.symbols.getpeername : this.#lib.symbols.getsockname;
    if (call(fd, buf, this.#addrLength) !== 0) return undefined;
    const family = buf[0] | (buf[1] << 8);
    return family === AF_INET || family === AF_INET6 ? (buf[2] << 8) | buf[3] : undefined;
  }

  /**
   * Shuts a socket down both ways: its peer reads the end of the stream, and whoever holds
   * the descriptor sees it end and closes it. The descriptor itself stays open.
   *
   * @param fd the socket
   * @returns whether it was shut down
   */
  shutdown(fd: number): boolean {
    return this.#lib.symbols.shutdown(fd, SHUT_RDWR) === 0;
  }

  /** The process's descriptor limit (RLIMIT_NOFILE); "unlimited" reads as MAX_SAFE_INTEGER. */
  descriptorLimit(): DescriptorLimit {
    const limit = new BigUint64Array(2);
    if (this.#lib.symbols.getrlimit(RLIMIT_NOFILE, limit) !== 0) {
      throw new Error("getrlimit(RLIMIT_NOFILE) failed");
    }
    return { soft: fromRlim(limit[0]), hard: fromRlim(limit[1]) };
  }

  /**
   * Sets the soft descriptor limit, keeping the hard one.
   *
   * @param soft the new soft limit
   * @returns whether it was set
   */
  setSoftDescriptorLimit(soft: number): boolean {
    const limit = new BigUint64Array(2);
    if (this.#lib.symbols.getrlimit(RLIMIT_NOFILE, limit) !== 0) return false;
    limit[0] = BigInt(soft);
    return this.#lib.symbols.setrlimit(RLIMIT_NOFILE, limit) === 0;
  }

  /**
   * Removes the first `length` bytes of a file in place, shifting the rest to its start
   * (`FALLOC_FL_COLLAPSE_RANGE`): atomic with respect to a writer appending to it. ext4 and
   * XFS do it when `length` is a multiple of their block size; others refuse.
   *
   * @param fd the file, open for writing (until the promise settles)
   * @param length bytes to remove, less than the file's size
   * @param inLoop whether to do it on the event loop, as no read of this process can see the
   *   file half-way (the follower of a starting session's log reads it); else on a thread
   * @returns whether it was done, once it is
   */
  async collapseStart(fd: number, length: number, inLoop = false): Promise<boolean> {
    const mode = FALLOC_FL_COLLAPSE_RANGE;
    const { fallocate, fallocateAsync } = this.#lib.symbols;
    if (inLoop) return fallocate(fd, mode, 0n, BigInt(length)) === 0;
    return await fallocateAsync(fd, mode, 0n, BigInt(length)) === 0;
  }

  /**
   * Frees the disk space of the first `length` bytes of a file, which then read as zeros;
   * its size does not change (`FALLOC_FL_PUNCH_HOLE`).
   *
   * @param fd the file, open for writing (until the promise settles)
   * @param length bytes to free
   * @returns whether it was done, once it is
   */
  async punchStart(fd: number, length: number): Promise<boolean> {
    const mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    return await this.#lib.symbols.fallocateAsync(fd, mode, 0n, BigInt(length)) === 0;
  }

  /**
   * Opens a descriptor that Deno knows nothing of (on `/dev/null`), to hold in reserve: closed
   * when the process has run out, it lets one more descriptor be opened.
   *
   * @returns the descriptor, or undefined when none can be opened now
   */
  openReserve(): number | undefined {
    const fd = this.#lib.symbols.open(DEV_NULL, O_RDONLY_CLOEXEC);
    return fd >= 0 ? fd : undefined;
  }

  /**
   * Closes a descriptor that {@linkcode Libc.openReserve} opened (never one Deno holds).
   *
   * @param fd the descriptor
   */
  closeReserve(fd: number): void {
    this.#lib.symbols.close(fd);
  }

  /** Unloads the library. */
  close(): void {
    this.#lib.close();
  }
}

function fromRlim(value: bigint): number {
  return value === RLIM_INFINITY || value > BigInt(Number.MAX_SAFE_INTEGER)
    ? Number.MAX_SAFE_INTEGER
    : Number(value);
}

/**
 * Writes an IPv6 address as Rust, and so `Deno.NetAddr`, writes it: RFC 5952 (lower case, the
 * first longest run of two or more zero groups as `::`), IPv4-mapped ones as `::ffff:a.b.c.d`.
 *
 * @param bytes the 16 bytes of the address
 * @returns the text
 */
export function ipv6Text(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${bytes.subarray(12, 16).join(".")}`;
  }
  // The longest run of two or more zero words becomes "::" (the first of equal runs).
  let best = -1, bestLength = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = words.map((w) => w.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}
