export { decideNote, type ExistingNote, markerFor, type NoteDecision, noteBody } from "./marker.js";
export { type NoteRetry, type NotesApi, type NotesApiOptions, notesApi } from "./notes-api.js";
export { type PostNoteInput, type PostNoteResult, postMrNote, resolveGitlabTarget } from "./post-note.js";
