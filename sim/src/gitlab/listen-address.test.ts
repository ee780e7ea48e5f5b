import { InputError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { checkListenHost } from "./listen-address.js";

describe("checkListenHost", () => {
  it.each(["127.0.0.1", "127.0.0.53", "localhost", "::1", "198.18.0.1", "198.19.255.1"])("accepts %s", (host) => {
    expect(() => checkListenHost(host)).not.toThrow();
  });
  it.each(["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "172.17.0.1", "198.20.0.1", "8.8.8.8", "example.com"])("refuses %s", (host) => {
    expect(() => checkListenHost(host)).toThrow(InputError);
  });
});
