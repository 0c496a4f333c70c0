/**
 * Where the proxy finds a session that runs on a cluster node: the node's entry in the
 * config's `node_hosts`, else the address the scheduler knows the node by (Slurm's
 * `NodeAddr`), else the node name itself, for DNS to resolve when the proxy connects.
 *
 * @module
 */

/** Asks the scheduler for a node's address (see `BatchSystem.nodeAddress`). */
export type NodeAddressLookup = (node: string) => Promise<string | undefined>;

/** Resolves node names to the host the proxy and the map file use. */
export class NodeHosts {
  readonly #map: Record<string, string>;
  readonly #lookup?: NodeAddressLookup;

  /**
   * Makes the resolver.
   *
   * @param map the config's `node_hosts`: node name to host name or address
   * @param lookup the scheduler's own address for a node, when it has one
   */
  constructor(map: Record<string, string>, lookup?: NodeAddressLookup) {
    this.#map = { ...map };
    this.#lookup = lookup;
  }

  /**
   * The host of `node`.
   *
   * @param node a node name, as the scheduler reports it
   * @returns the configured host, the scheduler's address, or the name itself (also when
   *   the scheduler cannot be asked)
   */
  async host(node: string): Promise<string> {
    if (Object.hasOwn(this.#map, node)) return this.#map[node];
    try {
      return (await this.#lookup?.(node)) ?? node;
    } catch {
      return node;
    }
  }
}
