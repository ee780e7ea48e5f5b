export { decideNote, type ExistingNote, markerFor, type NoteDecision, noteBody } from "./marker.js";
export { type GitlabCredentials, type NotesApi, type NotesApiOptions, notesApi } from "./notes-api.js";
export { type PostNoteInput, type PostNoteResult, postMrNote, resolveGitlabTarget } from "./post-note.js";
export { DEFAULT_RETRY, isRetryable, type RetryPolicy, retryDelayMs } from "./retry.js";
