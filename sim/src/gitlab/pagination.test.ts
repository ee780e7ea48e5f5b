import { describe, expect, it } from "vitest";
import { ApiError } from "./errors.js";
import { pageRequest, paginate } from "./pagination.js";

const url = new URL("http://127.0.0.1:1234/api/v4/runners?type=group_type&page=2&per_page=2");
const items = [1, 2, 3, 4, 5];

describe("pageRequest", () => {
  it("defaults to page 1 of 20 and caps per_page at 100", () => {
    expect(pageRequest({})).toEqual({ page: 1, perPage: 20 });
    expect(pageRequest({ page: "3", per_page: "500" })).toEqual({ page: 3, perPage: 100 });
  });
  it.each([{ page: "0" }, { page: "x" }, { per_page: "0" }])("rejects %o with a 400 {error}", (params) => {
    const thrown = (() => {
      try {
        pageRequest(params);
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(ApiError);
    expect((thrown as ApiError).status).toBe(400);
    expect((thrown as ApiError).body).toEqual({ error: expect.stringMatching(/^(page|per_page) is invalid$/) });
  });
});

describe("paginate", () => {
  it("slices a middle page and sets every GitLab header", () => {
    const page = paginate(items, { page: 2, perPage: 2 }, url);
    expect(page.items).toEqual([3, 4]);
    expect(page.headers).toMatchObject({
      "x-total": "5",
      "x-total-pages": "3",
      "x-page": "2",
      "x-per-page": "2",
      "x-next-page": "3",
      "x-prev-page": "1",
    });
    const links = Object.fromEntries(
      (page.headers.link ?? "").split(", ").map((l) => {
        const [, target, rel] = /^<([^>]+)>; rel="(\w+)"$/.exec(l) ?? [];
        return [rel, new URL(target ?? "")];
      }),
    );
    expect(Object.keys(links).sort()).toEqual(["first", "last", "next", "prev"]);
    expect(links.next?.searchParams.get("page")).toBe("3");
    expect(links.next?.searchParams.get("type")).toBe("group_type");
    expect(links.last?.searchParams.get("page")).toBe("3");
    expect(links.prev?.searchParams.get("per_page")).toBe("2");
  });

  it("has empty next/prev on a single page, and reports one page for an empty list", () => {
    const empty = paginate([], { page: 1, perPage: 20 }, url);
    expect(empty.items).toEqual([]);
    expect(empty.headers).toMatchObject({ "x-total": "0", "x-total-pages": "1", "x-next-page": "", "x-prev-page": "" });
    expect(empty.headers.link).not.toContain('rel="next"');
  });

  it("answers an empty page past the end, with prev pointing to the last page", () => {
    const past = paginate(items, { page: 9, perPage: 2 }, url);
    expect(past.items).toEqual([]);
    expect(past.headers["x-next-page"]).toBe("");
    expect(past.headers["x-prev-page"]).toBe("3");
  });
});
