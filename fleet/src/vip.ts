import { isIP } from "node:net";

/** A virtual IPv4 address and the prefix of the LAN it lives on (fleet app.loadBalancer.vip). */
export interface VirtualAddress {
  address: string;
  prefixLength: number;
  /** As written: "192.168.1.250/24". */
  cidr: string;
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** "198.19.1.250/24" → the address and prefix; undefined for anything but IPv4/BITS. Pure. */
export function parseVirtualAddress(cidr: string): VirtualAddress | undefined {
  const [address, bits] = cidr.split("/");
  if (address === undefined || bits === undefined || isIP(address) !== 4 || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) return undefined;
  return { address, prefixLength: Number(bits), cidr };
}

/** Whether `address` (IPv4) is in the VIP's network. Pure. */
export function inVipNetwork(vip: VirtualAddress, address: string): boolean {
  if (isIP(address) !== 4) return false;
  const size = 2 ** (32 - vip.prefixLength);
  return Math.floor(ipv4ToInt(address) / size) === Math.floor(ipv4ToInt(vip.address) / size);
}

/** What is wrong with a VIP on its own: not IPv4/BITS, a network too small, or its network or broadcast address. */
export function vipShapeProblem(cidr: string): string | undefined {
  const vip = parseVirtualAddress(cidr);
  if (!vip) return `app.loadBalancer.vip ${JSON.stringify(cidr)} must be an IPv4 address with the LAN's prefix, e.g. 192.168.1.250/24`;
  if (vip.prefixLength > 30)
    return `app.loadBalancer.vip ${cidr}: a /${vip.prefixLength} has no room for the nodes and the VIP; give the LAN's prefix`;
  const size = 2 ** (32 - vip.prefixLength);
  const offset = ipv4ToInt(vip.address) % size;
  if (offset === 0 || offset === size - 1)
    return `app.loadBalancer.vip ${cidr} is the network's ${offset === 0 ? "network" : "broadcast"} address; pick a free host address`;
  return undefined;
}
