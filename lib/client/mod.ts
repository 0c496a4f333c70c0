/**
 * Who a client is, decided in one place: the networks of `trusted_proxies` and the client
 * behind them, loopback, the web page a request comes from and whether it is the launcher's
 * own, whether the browser came over HTTPS, and the secret tokens of bearer credentials. The
 * front door, the dashboard, the proxy and the config use it; it imports no other folder.
 *
 * @module
 */

export { isLoopback, LOOPBACK, type Network, parseNetwork, TrustedProxies } from "./network.ts";
export {
  cameOverTls,
  isOwnOrigin,
  normaliseOrigin,
  ownOrigins,
  requestScheme,
  viaHttps,
} from "./origin.ts";
export { SecretToken } from "./token.ts";
