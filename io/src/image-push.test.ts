import { describe, expect, it } from "vitest";
import { recordingShell } from "./fakes.js";
import { pushImagesThroughNode, tagsMissingFrom } from "./image-push.js";

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

describe("pushImagesThroughNode", () => {
  const images = [
    { local: "pifleet/counter:a1", ref: "198.19.0.11:5000/pifleet/counter:a1" },
    { local: "pifleet/redis:b2", ref: "198.19.0.11:5000/pifleet/redis:b2" },
  ];
  const steps = (calls: ReturnType<typeof recordingShell>["calls"]) =>
    calls.map((c) => [c.node, ...(c.local ? [c.local[0], ...c.local[1], "|"] : []), ...(c.argv ?? [])].join(" "));

  it("copies only what the node lacks in one save | load, then tags and pushes every image there", async () => {
    const shell = recordingShell((call) => (call.argv?.[2] === "ls" ? "pifleet/redis:b2\n" : undefined));
    const progress: string[] = [];
    await pushImagesThroughNode(shell, node, images, (m) => progress.push(m));
    expect(steps(shell.calls)).toEqual([
      "pi1 docker image ls --format {{.Repository}}:{{.Tag}}",
      "pi1 docker save pifleet/counter:a1 | docker load -q",
      "pi1 docker tag pifleet/counter:a1 198.19.0.11:5000/pifleet/counter:a1",
      "pi1 docker push -q 198.19.0.11:5000/pifleet/counter:a1",
      "pi1 docker tag pifleet/redis:b2 198.19.0.11:5000/pifleet/redis:b2",
      "pi1 docker push -q 198.19.0.11:5000/pifleet/redis:b2",
    ]);
    expect(progress).toEqual([
      "copying pifleet/counter:a1 to pi1",
      "pushing 198.19.0.11:5000/pifleet/counter:a1",
      "pushing 198.19.0.11:5000/pifleet/redis:b2",
    ]);
  });

  it("sends nothing when the node has every image", async () => {
    const shell = recordingShell((call) => (call.argv?.[2] === "ls" ? "pifleet/counter:a1\npifleet/redis:b2\n" : undefined));
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
});
