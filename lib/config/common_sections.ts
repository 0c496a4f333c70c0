/**
 * What both config formats read the same way once each has found its own keys: the
 * operations settings, the cluster and placement, and the shared sections (resources,
 * applications, properties, the session cap), each read from the object the format keeps
 * them in.
 *
 * @module
 */

import type { Fields } from "./reader.ts";
import { type OperationContext, type OperationSettings, readOperations } from "./operations.ts";
import { clusterPortCount, readScheduling, type SchedulingSettings } from "./scheduling.ts";
import { readSharedSections, type SharedKeys, type SharedSections } from "./sections.ts";

/** What a format says of itself to {@linkcode readCommonSections}. */
export interface CommonContext extends OperationContext {
  /** Ready lines of the config. */
  readyLines: readonly string[];
  /** Ready timeout of the config, in milliseconds. */
  timeoutMs: number;
  /** How the format names the shared sections (`max_session` and the cluster's ports aside). */
  keys: Omit<SharedKeys, "maxSession" | "clusterPorts">;
}

/**
 * Reads the settings both formats share.
 *
 * @param top the top-level object
 * @param holder the object the format keeps its settings in (the top level, or wslink's
 *   `configuration`, when there is one)
 * @param context where the format listens and keeps its files, and its app defaults
 * @returns the settings, with problems recorded
 */
export function readCommonSections(
  top: Fields,
  holder: Fields | undefined,
  context: CommonContext,
): SharedSections & OperationSettings & SchedulingSettings {
  const { readyLines, timeoutMs, keys, ...where } = context;
  const operations = readOperations(holder, where);
  const scheduling = readScheduling(holder);
  const shared = readSharedSections(
    top,
    {
      ...keys,
      maxSession: holder?.get("max_session"),
      clusterPorts: clusterPortCount(scheduling.cluster),
    },
    {
      readyLines,
      timeoutMs,
      baseDir: where.baseDir,
      idleTimeoutMs: operations.idleTimeoutMs,
      maxLifetimeMs: operations.maxLifetimeMs,
      cluster: holder?.get("cluster") ? scheduling.cluster : null,
    },
  );
  return { ...shared, ...operations, ...scheduling };
}
