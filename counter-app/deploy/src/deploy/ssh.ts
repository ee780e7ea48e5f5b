import type { Fleet, FleetNode } from "@pifleet/fleet";
import { pipe, run } from "./exec.js";

/** Quotes one word for the remote POSIX shell. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** OpenSSH arguments for a node: the fleet key, and only the pinned host key is accepted. */
export function sshArgs(fleet: Fleet, node: FleetNode): string[] {
  return [
    "-i",
    fleet.ssh.privateKey,
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    `UserKnownHostsFile=${fleet.ssh.knownHosts}`,
    "-o",
    "BatchMode=yes",
    "-o",
    "ConnectTimeout=10",
    "-o",
    "LogLevel=ERROR",
    "-p",
    String(fleet.ssh.port),
    `${fleet.ssh.user}@${node.address}`,
  ];
}

/** Commands on fleet nodes over SSH. */
export interface NodeShell {
  /** Runs argv on the node; resolves with stdout. */
  run(node: FleetNode, argv: string[], input?: string): Promise<string>;
  /** Streams a local command's stdout into argv on the node. */
  pipeTo(node: FleetNode, local: [string, string[]], argv: string[], describe: string): Promise<string>;
}

export function sshShell(fleet: Fleet): NodeShell {
  const remote = (argv: string[]) => argv.map(shellQuote).join(" ");
  return {
    run: (node, argv, input) =>
      run("ssh", [...sshArgs(fleet, node), remote(argv)], { input, describe: `on ${node.name}: ${argv.slice(0, 3).join(" ")}` }),
    pipeTo: (node, local, argv, describe) => pipe(local, ["ssh", [...sshArgs(fleet, node), remote(argv)]], `on ${node.name}: ${describe}`),
  };
}
