import { describe, expect, it } from "vitest";
import { fullMessages, matchesFilters, runnerStatus, runnersInScope, runnerValidationErrors } from "./runner-model.js";
import { type SimRunner, seedState } from "./state.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function runner(over: Partial<SimRunner> = {}): SimRunner {
  return {
    id: 1,
    description: "pi1",
    runner_type: "group_type",
    group_id: 1,
    project_ids: [],
    paused: false,
    locked: false,
    run_untagged: true,
    tag_list: ["arm64", "pi"],
    access_level: "not_protected",
    maximum_timeout: null,
    maintenance_note: null,
    token: "glrt-x",
    token_expires_at: null,
    created_at: ago(DAY),
    contacted_at: null,
    creator_id: 1,
    managers: [],
    ...over,
  };
}

describe("runnerStatus follows GitLab's thresholds (online < 2 h, stale > 7 days)", () => {
  it.each([
    ["contacted 1 minute ago", { contacted_at: ago(MIN) }, "online"],
    ["contacted 1 h 59 min ago", { contacted_at: ago(2 * HOUR - MIN) }, "online"],
    ["contacted exactly 2 h ago", { contacted_at: ago(2 * HOUR) }, "offline"],
    ["contacted 3 days ago", { contacted_at: ago(3 * DAY) }, "offline"],
    ["contacted 7 days + 1 min ago", { created_at: ago(30 * DAY), contacted_at: ago(7 * DAY + MIN) }, "stale"],
    ["never contacted, created 1 day ago", { contacted_at: null }, "never_contacted"],
    ["never contacted, created 8 days ago", { created_at: ago(8 * DAY), contacted_at: null }, "stale"],
  ] as const)("%s → %s", (_label, over, expected) => {
    expect(runnerStatus(runner(over), NOW)).toBe(expected);
  });
});

describe("matchesFilters", () => {
  const online = runner({ id: 1, contacted_at: ago(MIN) });
  const oldOffline = runner({ id: 2, created_at: ago(30 * DAY), contacted_at: ago(10 * DAY), paused: true, tag_list: ["amd64"] });
  const fresh = runner({ id: 3, runner_type: "instance_type", group_id: null });
  const staleNever = runner({ id: 4, created_at: ago(9 * DAY) });
  const all = [online, oldOffline, fresh, staleNever];
  const ids = (f: Parameters<typeof matchesFilters>[1]) => all.filter((r) => matchesFilters(r, f, NOW)).map((r) => r.id);

  it("offline includes once-contacted stale runners; never_contacted includes never-contacted stale ones", () => {
    expect(ids({ status: "online" })).toEqual([1]);
    expect(ids({ status: "offline" })).toEqual([2]);
    expect(ids({ status: "stale" })).toEqual([2, 4]);
    expect(ids({ status: "never_contacted" })).toEqual([3, 4]);
  });

  it("filters by type, paused (and the deprecated active/paused statuses) and by all of tag_list", () => {
    expect(ids({ type: "instance_type" })).toEqual([3]);
    expect(ids({ paused: true })).toEqual([2]);
    expect(ids({ status: "paused" })).toEqual([2]);
    expect(ids({ status: "active" })).toEqual([1, 3, 4]);
    expect(ids({ tagList: ["arm64", "pi"] })).toEqual([1, 3, 4]);
    expect(ids({ tagList: ["arm64", "amd64"] })).toEqual([]);
  });
});

describe("runnersInScope", () => {
  const state = seedState(NOW);
  state.runners = [
    runner({ id: 3, runner_type: "instance_type", group_id: null }),
    runner({ id: 1, runner_type: "group_type", group_id: 1 }),
    runner({ id: 2, runner_type: "project_type", group_id: null, project_ids: [1] }),
    runner({ id: 4, runner_type: "group_type", group_id: 99 }),
  ];
  const admin = state.users[0];
  if (!admin) throw new Error("seed has no admin");
  const ids = (scope: Parameters<typeof runnersInScope>[1]) => runnersInScope(state, scope).map((r) => r.id);

  it("owned never lists instance runners; a user with no memberships owns nothing", () => {
    expect(ids({ kind: "owned", user: admin })).toEqual([1, 2, 4]);
    expect(ids({ kind: "owned", user: { ...admin, id: 7, is_admin: false } })).toEqual([]);
  });

  it("a group sees its own and instance runners; a project also its group's runners", () => {
    expect(ids({ kind: "all" })).toEqual([1, 2, 3, 4]);
    expect(ids({ kind: "group", groupId: 1 })).toEqual([1, 3]);
    expect(ids({ kind: "project", projectId: 1 })).toEqual([1, 2, 3]);
  });
});

describe("runnerValidationErrors uses GitLab's messages", () => {
  it("accepts a plain runner", () => {
    expect(runnerValidationErrors(runner())).toEqual({});
  });
  it("rejects untagged-only runners without tags, short timeouts and long notes", () => {
    expect(
      runnerValidationErrors(runner({ run_untagged: false, tag_list: [], maximum_timeout: 599, maintenance_note: "x".repeat(1025) })),
    ).toEqual({
      tags_list: ["can not be empty when runner is not allowed to pick untagged jobs"],
      maximum_timeout: ["needs to be at least 10 minutes"],
      maintenance_note: ["is too long (maximum is 1024 characters)"],
    });
  });
});

describe("fullMessages reads like Rails' full_messages.to_sentence", () => {
  it("humanizes fields and joins one, two or three messages", () => {
    expect(fullMessages({ tags_list: ["can not be empty"] })).toBe("Tags list can not be empty");
    expect(fullMessages({ maximum_timeout: ["a"], description: ["b"] })).toBe("Maximum timeout a and Description b");
    expect(fullMessages({ a_b: ["x", "y"], c: ["z"] })).toBe("A b x, A b y, and C z");
  });
});
