import type { JobView, PipelineView } from "../model.js";

/** A job of the view, waiting in stage verify unless told otherwise. */
export function jobView(id: number, name: string, status: string, extra: Partial<JobView> = {}): JobView {
  return {
    id,
    name,
    stage: "verify",
    status,
    node: null,
    runner: null,
    duration: null,
    allowFailure: false,
    failureReason: null,
    stuckReason: null,
    ...extra,
  };
}

/** Pipeline #7 on main, pushed. */
export function pipelineViewOf(status: string, jobs: JobView[], extra: Partial<PipelineView> = {}): PipelineView {
  return {
    id: 7,
    ref: "main",
    sha: "0123456789abcdef0123456789abcdef01234567",
    status,
    source: "push",
    webUrl: "http://198.19.255.1:4000/pifleet/infra/-/pipelines/7",
    duration: null,
    yamlErrors: null,
    jobs,
    ...extra,
  };
}
