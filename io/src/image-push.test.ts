import { describe, expect, it } from "vitest";
import { recordingShell, type ShellCall } from "./fakes.js";
import { pushedDigest, pushImagesThroughNode, tagsMissingFrom } from "./image-push.js";

const node = { name: "pi1", address: "198.19.0.11" };

describe("tagsMissingFrom", () => {
  it("keeps the wanted tags the listing lacks, in order, once each", () => {
    const listing = "pifleet/counter:a1\n<none>:<none>\n  pifleet/redis:b2  \n";
    expect(tagsMissingFrom(listing, ["pifleet/lb:c3", "pifleet/counter:a1", "pifleet/redis:b2", "pifleet/lb:c3"])).toEqual([
      "pifleet/lb:c3",
    ]);
  });

  it("matches whole tags, not prefixes", () => {
    expect(tagsMissingFrom("pifleet/counter:a1-old\n", ["pifleet/counter:a1"])).toEqual(["pifleet/counter:a1"]);
  });

  it("an empty listing lacks everything", () => {
    expect(tagsMissingFrom("", ["a:1", "b:2"])).toEqual(["a:1", "b:2"]);
  });
});

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

describe("pushedDigest", () => {
  it("takes the digest of the pushed reference's repository, not of another name of the same image", () => {
    const listed = JSON.stringify([`pifleet/counter@${D1}`, `198.19.0.11:5000/pifleet/counter@${D2}`]);
    expect(pushedDigest(listed, "198.19.0.11:5000/pifleet/counter:a1")).toBe(D2);
    expect(pushedDigest(listed, "198.19.0.11:5000/pifleet/count:a1")).toBeUndefined();
  });

  it("nothing pushed, no JSON or no sha256 digest: undefined, never a guess", () => {
    expect(pushedDigest("[]", "r:5000/a:1")).toBeUndefined();
    expect(pushedDigest("null", "r:5000/a:1")).toBeUndefined();
    expect(pushedDigest("", "r:5000/a:1")).toBeUndefined();
    expect(pushedDigest(JSON.stringify(["r:5000/a@sha256:abc"]), "r:5000/a:1")).toBeUndefined();
  });
});

describe("pushImagesThroughNode", () => {
  const images = [
    { local: "pifleet/counter:a1", ref: "198.19.0.11:5000/pifleet/counter:a1" },
    { local: "pifleet/redis:b2", ref: "198.19.0.11:5000/pifleet/redis:b2" },
  ];
  /** The node's engine after the push: counter:a1 has digest D1, redis:b2 D2. */
  const inspect = (call: ShellCall) => {
    if (call.argv?.[2] !== "inspect") return undefined;
    const ref = call.argv.at(-1) ?? "";
    return JSON.stringify([`${ref.slice(0, ref.lastIndexOf(":"))}@${ref.includes("counter") ? D1 : D2}`]);
  };
  const steps = (calls: ReturnType<typeof recordingShell>["calls"]) =>
    calls.map((c) => [c.node, ...(c.local ? [c.local[0], ...c.local[1], "|"] : []), ...(c.argv ?? [])].join(" "));

  it("copies only what the node lacks in one save | load, then tags and pushes every image there", async () => {
    const shell = recordingShell((call) => (call.argv?.[2] === "ls" ? "pifleet/redis:b2\n" : inspect(call)));
    const progress: string[] = [];
    const pushed = await pushImagesThroughNode(shell, node, images, (m) => progress.push(m));
    expect(steps(shell.calls)).toEqual([
      "pi1 docker image ls --format {{.Repository}}:{{.Tag}}",
      "pi1 docker save pifleet/counter:a1 | docker load -q",
      "pi1 docker tag pifleet/counter:a1 198.19.0.11:5000/pifleet/counter:a1",
      "pi1 docker push -q 198.19.0.11:5000/pifleet/counter:a1",
      "pi1 docker image inspect --format {{json .RepoDigests}} 198.19.0.11:5000/pifleet/counter:a1",
      "pi1 docker tag pifleet/redis:b2 198.19.0.11:5000/pifleet/redis:b2",
      "pi1 docker push -q 198.19.0.11:5000/pifleet/redis:b2",
      "pi1 docker image inspect --format {{json .RepoDigests}} 198.19.0.11:5000/pifleet/redis:b2",
    ]);
    expect(pushed).toEqual([
      { ref: images[0]?.ref, digest: D1, pinned: `198.19.0.11:5000/pifleet/counter:a1@${D1}` },
      { ref: images[1]?.ref, digest: D2, pinned: `198.19.0.11:5000/pifleet/redis:b2@${D2}` },
    ]);
    expect(progress).toEqual([
      "copying pifleet/counter:a1 to pi1",
      "pushing 198.19.0.11:5000/pifleet/counter:a1",
      "pushing 198.19.0.11:5000/pifleet/redis:b2",
    ]);
  });

  it("sends nothing when the node has every image", async () => {
    const shell = recordingShell((call) => (call.argv?.[2] === "ls" ? "pifleet/counter:a1\npifleet/redis:b2\n" : inspect(call)));
    await pushImagesThroughNode(shell, node, images);
    expect(shell.calls.some((c) => c.local)).toBe(false);
    expect(shell.calls.filter((c) => c.argv?.[1] === "push")).toHaveLength(2);
  });

  it("a failed listing fails the push instead of copying everything", async () => {
    const shell = recordingShell((call) =>
      call.argv?.[2] === "ls" ? { code: 1, stderr: "Cannot connect to the Docker daemon" } : undefined,
    );
    await expect(pushImagesThroughNode(shell, node, images)).rejects.toThrow(
      "on pi1: list the images in its Docker engine failed (exit 1): Cannot connect to the Docker daemon",
    );
    expect(shell.calls).toHaveLength(1);
  });

  it("an engine that names no digest after the push fails it, saying where", async () => {
    const shell = recordingShell((call) =>
      call.argv?.[2] === "ls" ? "pifleet/counter:a1\npifleet/redis:b2\n" : call.argv?.[2] === "inspect" ? "[]" : undefined,
    );
    await expect(pushImagesThroughNode(shell, node, images)).rejects.toThrow(
      "on pi1: the engine names no registry digest for 198.19.0.11:5000/pifleet/counter:a1 after pushing it (RepoDigests: [])",
    );
  });
});
