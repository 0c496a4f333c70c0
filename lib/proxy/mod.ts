/**
 * The built-in proxy: routes a browser's WebSocket and plain HTTP to its session's process,
 * found only in the session table, with bounded buffers.
 *
 * @module
 */

export { SessionProxy } from "./session_proxy.ts";
