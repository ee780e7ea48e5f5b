import type { NextFunction, Request, Response } from "express";

/** 127.0.0.1 or ::1, also as an IPv4-mapped IPv6 address (a dual-stack socket reports ::ffff:127.0.0.1). */
function isLoopback(address: string): boolean {
  return address === "127.0.0.1" || address === "::1" || address === "::ffff:127.0.0.1";
}

const unmapped = (address: string) => address.replace(/^::ffff:/, "");

/**
 * Whether a request comes from this machine: from loopback, or from the very address the emulator
 * listens on (the host calling the sim gateway's URL, e.g. 198.18.x.1, connects from that address).
 * A sim node connects from its own address on the bridge, so it is not. Pure.
 */
export function fromThisMachine(remoteAddress: string | undefined, localAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  if (isLoopback(remoteAddress)) return true;
  return localAddress !== undefined && unmapped(remoteAddress) === unmapped(localAddress);
}

/**
 * The control API mints admin tokens and changes the world without authentication, and the
 * emulator may listen on the sim gateway, which every node reaches: it answers this machine only.
 * No node needs it (the runner stand-ins and jobs use /api/v4 with their own tokens).
 */
export function controlFromThisMachineOnly(req: Request, res: Response, next: NextFunction): void {
  if (fromThisMachine(req.socket.remoteAddress, req.socket.localAddress)) {
    next();
    return;
  }
  res.status(403).json({
    message: "403 Forbidden",
    error: `${req.method} /-/sim${req.path}: the emulator's control API answers only this machine (loopback or ${req.socket.localAddress ?? "its listen address"}), not ${req.socket.remoteAddress ?? "an unknown address"}; a node uses /api/v4 with a token`,
  });
}
