/**
 * The project settings design D rests on (docs/security.md): a Developer's branch must not be able to
 * run its YAML on a protected ref. Pure: findings from what GitLab's API answered; null = could not read.
 */

/** Entities::ProtectedRefAccess: who may push or merge; 40 is Maintainer. */
export interface RefAccess {
  access_level: number;
}

/** GET /projects/:id/protected_branches/:name (Entities::ProtectedBranch). */
export interface ProtectedBranch {
  name: string;
  push_access_levels: RefAccess[];
  merge_access_levels: RefAccess[];
}

/** GET /projects/:id/protected_tags (Entities::ProtectedTag). */
export interface ProtectedTag {
  name: string;
  create_access_levels: RefAccess[];
}

export interface SettingFinding {
  ok: boolean | null;
  setting: string;
  detail: string;
}

const MAINTAINER = 40;
// access_level 0 is "No one": stricter than Maintainer.
const maintainersOnly = (levels: readonly RefAccess[]) => levels.every((l) => l.access_level === 0 || l.access_level >= MAINTAINER);

/** Each setting bootstrap relies on, checked where the API said something (ok: null = not readable; check it in the UI). */
export function projectSettingFindings(
  defaultBranch: string,
  branch: ProtectedBranch | null | "unprotected",
  tags: ProtectedTag[] | null,
): SettingFinding[] {
  const branchSetting = `default branch ${defaultBranch} protected, push and merge by Maintainers only`;
  const branchFinding: SettingFinding =
    branch === null
      ? { ok: null, setting: branchSetting, detail: "not readable through the API: check Settings → Repository → Protected branches" }
      : branch === "unprotected"
        ? { ok: false, setting: branchSetting, detail: "it is not protected: every Developer's push runs with the deploy credentials" }
        : maintainersOnly([...branch.push_access_levels, ...branch.merge_access_levels])
          ? { ok: true, setting: branchSetting, detail: "yes" }
          : {
              ok: false,
              setting: branchSetting,
              detail: "Developers may push or merge: they can run their YAML with the deploy credentials",
            };
  const tagSetting = "tags protected (*), created by Maintainers only";
  const wildcard = tags?.find((t) => t.name === "*");
  const tagFinding: SettingFinding =
    tags === null
      ? { ok: null, setting: tagSetting, detail: "not readable through the API: check Settings → Repository → Protected tags" }
      : wildcard && maintainersOnly(wildcard.create_access_levels)
        ? { ok: true, setting: tagSetting, detail: "yes" }
        : { ok: false, setting: tagSetting, detail: "a Developer's tag pipeline would be protected and run on the deploy pool" };
  return [
    branchFinding,
    tagFinding,
    {
      ok: null,
      setting: "the deploy pool's runners protected",
      detail: "fleet.yaml's protected: true, set by runners apply (access_level ref_protected)",
    },
  ];
}

/** One line per finding: ✓ held, ✗ does not (what it allows), ? not readable. */
export function renderSettingFindings(findings: readonly SettingFinding[]): string {
  const mark = (f: SettingFinding) => (f.ok === true ? "✓" : f.ok === false ? "✗" : "?");
  return findings.map((f) => `  ${mark(f)} ${f.setting}: ${f.detail}`).join("\n");
}
