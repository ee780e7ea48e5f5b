export { type Clock, manualClock, sleep, systemClock } from "./clock.js";
export { livePid, spawnDetached, stopPidFile } from "./daemon.js";
export { type ExecCall, recordingRunner, recordingShell, type ShellCall } from "./fakes.js";
export { holdFileLock, type WriteOptions, withFileLock, writeFileAtomic, writeFileAtomicSync, writeIfChanged } from "./files.js";
export {
  DEFAULT_RETRY,
  type GitlabAuth,
  GitlabHttpError,
  GitlabNetworkError,
  type GitlabQuery,
  type GitlabRequestOptions,
  type GitlabResponse,
  type GitlabTransport,
  type GitlabTransportOptions,
  gitlabApiUrl,
  gitlabTransport,
  isRetryable,
  mayHaveReachedGitlab,
  parseRetryAfter,
  type RetryHooks,
  type RetryPolicy,
  retryDelay,
  withRetry,
} from "./gitlab.js";
export { type ImageToPush, pushImagesThroughNode, tagsMissingFrom } from "./image-push.js";
export { isPinned, type KnownKey, knownKeysFor, type Revocation, readKnownHosts, revokedKeysFor } from "./known-hosts.js";
export {
  type Command,
  type ExecOptions,
  type ExecResult,
  eachLine,
  type LineSplitter,
  linesMatching,
  type ProcessRunner,
  processRunner,
  run,
} from "./process.js";
export { shellJoin, shellQuote } from "./quote.js";
export { REDACTED, Secret, scrubTokens, secretFromEnv } from "./secret.js";
export {
  NodeCommandError,
  type NodeShell,
  remoteScript,
  type ShellOptions,
  type SshSettings,
  type SshTarget,
  sshArgs,
  sshShell,
} from "./ssh.js";
