/**
 * Where sessions run, in both formats: the `cluster` key (the batch system that runs the
 * sessions of applications with a `slurm` key, read by `lib/cluster`), `placement` (how
 * sessions spread over the hosts of `resources`), and each application's `slurm` and
 * `queue_timeout`. The spec format has `cluster` and `placement` at its top level, the
 * wslink format in `configuration`; the application keys are the same in both.
 *
 * `lib/cluster` reads the settings from plain values and names each problem by its key path
 * below the key it read; this module places those problems at their line and column.
 *
 * @module
 */

import {
  type ClusterSettings,
  parseClusterSettings,
  parseSlurmSettings,
  type SettingsProblem,
  type SlurmSettings,
} from "../cluster/mod.ts";
import type { Fields, Value } from "./reader.ts";
import type { SyntaxNode } from "./source.ts";
import { readSeconds } from "./values.ts";

/** The keys read here where the format keeps its global settings. */
export const SCHEDULING_KEYS: readonly string[] = ["cluster", "placement"];

/** The keys read here in each application. */
export const APP_SCHEDULING_KEYS: readonly string[] = ["slurm", "queue_timeout"];

/** How sessions are placed on the hosts of `resources`. */
export type Placement = "spread" | "pack";

/** What {@linkcode readScheduling} reads. */
export interface SchedulingSettings {
  /** The batch system, when the config has a `cluster` key. */
  cluster?: ClusterSettings;
  /** Placement on the hosts of `resources`, when given. */
  placement?: Placement;
}

/** The decoded value of a syntax node. */
function plain(node: SyntaxNode): unknown {
  switch (node.type) {
    case "object":
      return Object.fromEntries(
        (node.children ?? []).map((p) => [p.children![0].value as string, plain(p.children![1])]),
      );
    case "array":
      return (node.children ?? []).map(plain);
    default:
      return node.value;
  }
}

/** The node at a settings path (`max.time`, `sbatch_args[2]`), or the nearest above it. */
function nodeAt(root: SyntaxNode, path: string): SyntaxNode {
  let node = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    const next = node.type === "array"
      ? node.children?.[Number(part)]
      : node.children?.find((p) => p.children?.[0].value === part)?.children?.[1];
    if (!next) break;
    node = next;
  }
  return node;
}

/** Records the problems `lib/cluster` found in the settings at `value`, each at its place. */
function place(value: Value, problems: SettingsProblem[]): void {
  for (const p of problems) {
    const node = nodeAt(value.node, p.path);
    const path = p.path === ""
      ? value.path
      : p.path.startsWith("[")
      ? `${value.path}${p.path}`
      : `${value.path}.${p.path}`;
    value.problems.add(p.severity, node.offset, path, `${p.path || value.key}: ${p.message}`);
  }
}

/**
 * Reads `cluster` and `placement`.
 *
 * @param fields the object that holds them (the spec's top level, wslink's `configuration`)
 * @returns the settings given; problems are recorded at their place
 */
export function readScheduling(fields: Fields | undefined): SchedulingSettings {
  const out: SchedulingSettings = {};
  const clusterValue = fields?.get("cluster");
  if (clusterValue) {
    const { settings, problems } = parseClusterSettings(plain(clusterValue.node));
    place(clusterValue, problems);
    if (settings) out.cluster = settings;
  }
  const placement = fields?.get("placement");
  if (placement) {
    const text = placement.string();
    if (text === "spread" || text === "pack") out.placement = text;
    else if (text !== undefined) {
      placement.error(`expected "spread" or "pack", found ${JSON.stringify(text)}`);
    }
  }
  return out;
}

/** An application's own scheduling settings. */
export interface AppScheduling {
  /** Its jobs' settings, when it runs as a batch job. */
  slurm?: SlurmSettings;
  /** How long its sessions may wait in the queue, in ms. */
  queueTimeoutMs?: number;
}

/**
 * Reads an application's `slurm` and `queue_timeout`.
 *
 * @param fields the application's keys
 * @param cluster the config's `cluster` settings: `null` when the config has none, undefined
 *   when it has one that is not valid (its problems are reported already)
 * @returns the settings given; problems are recorded at their place
 */
export function readAppScheduling(
  fields: Fields,
  cluster: ClusterSettings | null | undefined,
): AppScheduling {
  const out: AppScheduling = {};
  const slurmValue = fields.get("slurm");
  if (slurmValue) {
    const { settings, problems } = parseSlurmSettings(plain(slurmValue.node));
    place(slurmValue, problems);
    if (settings) out.slurm = settings;
    if (cluster === null) {
      slurmValue.atKey(
        "error",
        'an application that runs as a Slurm job needs the "cluster" settings, with its ' +
          '"port_range" (such as "cluster": {"port_range": [9001, 9100]})',
      );
    } else if (cluster && !cluster.portRange) {
      slurmValue.atKey(
        "error",
        'an application that runs as a Slurm job needs "cluster.port_range": the ports its ' +
          "sessions get, the same on every node",
      );
    }
  }
  const queue = fields.read("queue_timeout", readSeconds);
  if (queue !== undefined) out.queueTimeoutMs = queue;
  if (queue !== undefined && !slurmValue) {
    fields.get("queue_timeout")!.warn("only sessions that run as Slurm jobs wait in a queue");
  }
  return out;
}

/**
 * The ports of the cluster's range: sessions that run as jobs count towards `max_session`
 * with them.
 *
 * @param cluster the cluster settings, if any
 * @returns the number of ports
 */
export function clusterPortCount(cluster: ClusterSettings | undefined): number {
  const range = cluster?.portRange;
  return range ? range.last - range.first + 1 : 0;
}
