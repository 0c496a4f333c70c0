/**
 * The launcher's effects on the operating system, behind the small interfaces the rest of
 * `lib/` uses: spawning sessions in process groups and signalling them, reading `/proc`,
 * following session logs (inotify), reading their tails and trimming their starts, opening
 * files without following links, atomic and durable file writes and reading them back, the
 * Apache map file, the launcher's own reopenable log file, the static content's files, the
 * checks of the folders a config names, probing ports, the socket table and descriptor limit
 * (through the C library), the process's memory, and timers.
 *
 * The rule for interfaces: each is defined here, beside its real implementation (`Spawner`
 * by `createProcessSpawner`, `LogFollower` by `DirectoryFollower`, `FileWriter` by
 * `writeFileAtomic`, `KeptFiles` by `keptFiles`, `SessionMap` by `MapFile`, `ContentOpener` by
 * `openContentFile`, `PortProbe` by `localPortProbe`, `SocketTable` by `processSocketTable`,
 * `LogTrimmer` by `createLogTrimmer`), so that the contract and the effect are read together;
 * the folders that consume them import both from here, and tests fake the interface.
 *
 * @module
 */

export {
  CoalescedWriter,
  type FileWriter,
  type RetryOptions,
  writeFileAtomic,
  writeFileDurably,
  type WriteHealth,
} from "./atomic_file.ts";
export {
  type ContentFile,
  type ContentOpener,
  hasDotSegment,
  openContentFile,
} from "./content_file.ts";
export { raiseDescriptorLimit } from "./descriptor_limit.ts";
export {
  checkFileFolder,
  checkFolder,
  creatableProblem,
  currentUid,
  ensureWritableFolder,
  inRealFolder,
  missingFolder,
  probeWrite,
  readText,
  realFolder,
  safetyProblem,
} from "./folder_checks.ts";
export { type ChunkHandler, DirectoryFollower, type Follow, type LogFollower } from "./follower.ts";
export { stopGroup, type StopTimes } from "./group_stop.ts";
export { type KeptFiles, keptFiles } from "./kept_files.ts";
export { Libc } from "./libc.ts";
export { findLogWriterGroups, type LogWriterGroup } from "./log_writers.ts";
export { listenProblem } from "./listen_problem.ts";
export { residentMemory } from "./memory.ts";
export { MapFile, type SessionMap } from "./map_file.ts";
export { localPortProbe, type PortProbe } from "./port_probe.ts";
export {
  createProcessSpawner,
  type ExitStatus,
  type ProcessHandle,
  type Spawner,
  type SpawnRequest,
} from "./process.ts";
export { NotRegularFileError, prepareLog } from "./regular_file.ts";
export { ReopenableLogFile } from "./reopenable_file.ts";
export {
  type AcceptedConnection,
  peerKey,
  processSocketTable,
  type SocketTable,
} from "./socket_table.ts";
export { readTail } from "./tail.ts";
export { readSmallFile, type SmallFile } from "./small_file.ts";
export {
  type CommandResult,
  type CommandRunner,
  ProcessRunner,
  type ProcessRunnerOptions,
  type RunOptions,
} from "./command_runner.ts";
export { timer, whenAborted } from "./timer.ts";
export { forwardHttp, type UpstreamHttp, type UpstreamRequest } from "./upstream_http.ts";
export { createLogTrimmer, type LogMeasure, type LogTrimmer } from "./trim.ts";
