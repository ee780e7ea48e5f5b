import { type GitlabTransportOptions, gitlabTransport, Secret } from "@pifleet/io";
import { controlHeaders, type GitlabEmulator, startGitlabEmulator } from "@pifleet/sim";
import { createGitlabClient } from "../gitbeaker-client.js";
import type { GitlabApi } from "../gitlab-api.js";

/** What a test may change about the client: the retry policy, clock and jitter, and the token. */
type ClientChoices = Partial<Pick<GitlabTransportOptions, "retry" | "clock" | "random">> & { token?: string };

/** The sim's GitLab API emulator in this process, a pifleet client for it, and its control API. */
export interface TestGitlab {
  emu: GitlabEmulator;
  api: GitlabApi;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** /api/v4 as a person (or curl) would call it with the admin token. */
  rest<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  requests(): Promise<{ total: number; byEndpoint: Record<string, number> }>;
  client(options?: ClientChoices): GitlabApi;
}

export async function startTestGitlab(): Promise<TestGitlab> {
  const emu = await startGitlabEmulator({ port: 0 });
  const client = ({ token, ...choices }: ClientChoices = {}) =>
    createGitlabClient(
      gitlabTransport({ url: emu.url, auth: { header: "PRIVATE-TOKEN", token: new Secret(token ?? emu.adminToken) }, ...choices }),
      { type: "project_type", id: emu.projectId },
    );
  const call = async (url: string, method: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url, {
      method,
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  return {
    emu,
    api: client(),
    client,
    control: async (method, path, body) => (await call(`${emu.url}/-/sim${path}`, method, body, controlHeaders(emu.controlSecret))).body,
    rest: (method, path, body) => call(`${emu.url}/api/v4${path}`, method, body, { "private-token": emu.adminToken }),
    requests: async () => (await call(`${emu.url}/-/sim/requests`, "GET", undefined, controlHeaders(emu.controlSecret))).body,
  };
}
