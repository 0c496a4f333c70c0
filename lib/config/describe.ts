/**
 * What the launcher says of its config at start and after `--check`: its applications, port
 * ranges and capacity, and where its files are.
 *
 * @module
 */

import { clusterPortCount } from "./scheduling.ts";
import { portCount } from "./sections.ts";
import type { LauncherConfig } from "./types.ts";

/**
 * Describes a config in a few lines.
 *
 * @param config the loaded config
 * @returns one line per fact, such as `capacity: 10 sessions`
 */
export function describeConfig(config: LauncherConfig): string[] {
  const local = portCount(config.resources);
  const ranges = config.resources.map((r) => `${r.host}:${r.first}-${r.last}`).join(", ");
  const range = config.cluster?.portRange;
  const ports = local + clusterPortCount(config.cluster);
  const jobs = Object.values(config.apps).filter((a) => a.slurm).map((a) => a.name);
  return [
    `applications: ${Object.keys(config.apps).join(", ")}`,
    `resources: ${ranges || "none"} (${local} ports)`,
    ...(config.cluster
      ? [
        `cluster: Slurm${range ? `, ports ${range.first}-${range.last} on any node` : ""}; ` +
        `as jobs: ${jobs.join(", ") || "none"}`,
      ]
      : []),
    `capacity: ${Math.min(config.maxSessions, ports)} sessions`,
    `session logs: ${config.logDir}`,
    `map file: ${config.mapFile ?? "none"}`,
    ...(config.tls ? [`TLS: certificate ${config.tls.cert}, key ${config.tls.key}`] : []),
  ];
}
