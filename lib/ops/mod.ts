/**
 * For whoever runs the launcher: the Prometheus metrics and their text format, the `/metrics`
 * and `/healthz` routes, and keeping secrets out of the launcher's own log.
 *
 * @module
 */

export { LauncherMetrics, type Metrics, type MetricsSnapshot } from "./metrics.ts";
export { redact } from "./redact.ts";
export { opsRoutes } from "./routes.ts";
