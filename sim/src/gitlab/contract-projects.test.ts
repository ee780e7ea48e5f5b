import { describe, expect, it } from "vitest";
import { call, useContractTarget } from "./test-support/target.js";

// GitLab contract: GET /projects/:id, the first call many clients make (python-gitlab's projects.get, gitbeaker's Projects.show).
const { target } = useContractTarget();

describe("GET /projects/:id", () => {
  it("answers the project with the fields clients read first, as plain application/json", async () => {
    const reply = await call(target, "GET", `/projects/${target.projectId}`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get("content-type")).toBe("application/json");
    expect(reply.body).toMatchObject({
      id: target.projectId,
      name: expect.any(String),
      path: expect.any(String),
      path_with_namespace: expect.stringContaining("/"),
      default_branch: expect.any(String),
      web_url: expect.stringMatching(/^https?:\/\//),
      http_url_to_repo: expect.stringMatching(/\.git$/),
      namespace: expect.objectContaining({ id: expect.any(Number), full_path: expect.any(String) }),
      shared_runners_enabled: expect.any(Boolean),
    });
    const body = reply.body as { web_url: string; path_with_namespace: string };
    expect(body.web_url.endsWith(`/${body.path_with_namespace}`)).toBe(true);
  });

  it("answers the same project by its URL-encoded path", async () => {
    const { path_with_namespace } = (await call(target, "GET", `/projects/${target.projectId}`)).body as { path_with_namespace: string };
    const byPath = await call(target, "GET", `/projects/${encodeURIComponent(path_with_namespace)}`);
    expect(byPath.status).toBe(200);
    expect(byPath.body).toMatchObject({ id: target.projectId });
  });

  it("is 404 with GitLab's body for a project that does not exist", async () => {
    expect(await call(target, "GET", "/projects/999999999")).toMatchObject({ status: 404, body: { message: "404 Project Not Found" } });
  });
});
