/**
 * Who a client is: the networks of `trusted_proxies` and the client behind them, read from
 * forwarded headers only when a trusted proxy sent them. Used by the front door, the proxy and
 * the config; it imports no other folder.
 *
 * @module
 */

export { dropHopByHop, parseNetwork, TrustedProxies } from "./forwarding.ts";
