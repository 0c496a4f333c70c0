/**
 * The built-in proxy: routes a browser's WebSocket and plain HTTP to its session's process,
 * found only in the session table, with bounded buffers, and tells the app who the client is
 * in the usual forwarded headers.
 *
 * @module
 */

export { SessionProxy } from "./session_proxy.ts";
