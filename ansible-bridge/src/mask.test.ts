import { describe, expect, it } from "vitest";
import type { AnsibleEvent } from "./events.js";
import { maskEvent, secretValues } from "./mask.js";

describe("secretValues", () => {
  it("collects strings under secret-looking names at any depth, longest first", () => {
    expect(
      secretValues({
        runner_token: "glrt-abcdef123",
        registry: { password: "hunter22", user: "admin" },
        nested: { api_key: ["k-1111", "k-22222"] },
        timezone: "Europe/Berlin",
        pin: { token: "123" },
      }),
    ).toEqual(["glrt-abcdef123", "hunter22", "k-22222", "k-1111"]);
  });
});

describe("maskEvent", () => {
  it("masks a result's diffs, message and task name: known values and secret-shaped text", () => {
    const event: AnsibleEvent = {
      kind: "result",
      host: "pi1",
      task: "write hunter22 somewhere",
      taskId: "1",
      action: "copy",
      status: "failed",
      ignored: false,
      message: 'non-zero return code: {"password": "a b, c"}',
      diffs: [
        {
          header: "/etc/gitlab-runner/config.toml",
          before: 'concurrent = 1\n  token = "glrt-old-abcdefghijkl"\n',
          after: 'concurrent = 2\n  token = "hunter22 with, spaces"\n',
        },
        { prepared: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n" },
      ],
    };
    expect(maskEvent(event, ["hunter22"])).toEqual({
      ...event,
      task: "write [redacted] somewhere",
      message: 'non-zero return code: {"password": "[redacted]"}',
      diffs: [
        {
          header: "/etc/gitlab-runner/config.toml",
          before: 'concurrent = 1\n  token = "[redacted]"\n',
          after: 'concurrent = 2\n  token = "[redacted]"\n',
        },
        { prepared: "[redacted]\n" },
      ],
    });
  });

  it("masks log lines and leaves recaps alone", () => {
    expect(maskEvent({ kind: "log", text: "auth: dXNlcjpwYXNz" }, [])).toEqual({ kind: "log", text: "auth: [redacted]" });
    const recap: AnsibleEvent = { kind: "recap", hosts: { pi1: { ok: 1, changed: 0, unreachable: 0, failed: 0, skipped: 0 } } };
    expect(maskEvent(recap, [])).toBe(recap);
  });
});
