import { cp, readdir, readFile, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { pipelineFacts } from "./ci-present.js";
import { ciState, type SimCiJob } from "./ci-state.js";
import type { Emulator } from "./context.js";
import type { SimProject } from "./state.js";
import { type ArchiveEntry, zipArchive } from "./zip-archive.js";

/**
 * The jobs' artifacts, kept by the emulator as GitLab keeps the uploaded archive: each job's files
 * under artifactRoot/job-<id>/, copied from the directory the executor collected them in.
 */
export function jobArtifactsDir(emu: Emulator, jobId: number): string {
  return join(emu.artifactRoot, `job-${jobId}`);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

/** Keeps what the executor collected for the job (nothing when it collected nothing). */
export async function keepArtifacts(emu: Emulator, jobId: number, collectedDir: string): Promise<void> {
  if ((await filesUnder(collectedDir)).length === 0) return;
  await cp(collectedDir, jobArtifactsDir(emu, jobId), { recursive: true, force: true });
}

/** The job's artifact file names (relative, forward slashes); empty when it has none. */
export function artifactFiles(emu: Emulator, jobId: number): Promise<string[]> {
  return filesUnder(jobArtifactsDir(emu, jobId));
}

/** Gitlab::Ci::Build::Artifacts::Path#valid?: no NUL byte, nothing that climbs out of the archive. */
export function validArtifactPath(path: string): boolean {
  return path.length > 0 && !path.includes("\0") && !path.split("/").some((part) => part === "..");
}

/** One file's bytes, or undefined when the job has no such file. */
export async function artifactFile(emu: Emulator, jobId: number, path: string): Promise<Buffer | undefined> {
  const normalized = path.replace(/^\.?\/+/, "");
  if (!(await artifactFiles(emu, jobId)).includes(normalized)) return undefined;
  return readFile(join(jobArtifactsDir(emu, jobId), normalized));
}

/** artifacts.zip of the job, or undefined when it has no artifacts. */
export async function artifactArchive(emu: Emulator, job: SimCiJob): Promise<Buffer | undefined> {
  const names = await artifactFiles(emu, job.id);
  if (names.length === 0) return undefined;
  const dir = jobArtifactsDir(emu, job.id);
  const entries: ArchiveEntry[] = await Promise.all(names.map(async (name) => ({ name, data: await readFile(join(dir, name)) })));
  const at = job.finished_at ? new Date(job.finished_at) : (await stat(dir)).mtime;
  return zipArchive(entries, at);
}

/**
 * Project#latest_successful_build_for_ref: the newest pipeline of the ref that succeeded, and in it
 * the newest job of that name that has artifacts; undefined when there is none.
 */
export async function latestSuccessfulJobForRef(
  emu: Emulator,
  project: SimProject,
  ref: string,
  jobName: string,
): Promise<SimCiJob | undefined> {
  const ci = ciState(emu.state);
  const pipeline = ci.pipelines
    .filter((p) => p.project_id === project.id && p.ref === ref && pipelineFacts(emu, p).status === "success")
    .sort((a, b) => b.id - a.id)[0];
  if (!pipeline) return undefined;
  const named = ci.jobs.filter((j) => j.pipeline_id === pipeline.id && j.name === jobName).sort((a, b) => b.id - a.id);
  for (const job of named) if ((await artifactFiles(emu, job.id)).length > 0) return job;
  return undefined;
}
