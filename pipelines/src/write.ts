import { readFile, rename, writeFile } from "node:fs/promises";

/**
 * The one writer for generated files: leaves an unchanged file alone (so its
 * mtime and git status stay quiet), otherwise writes a temp file and renames
 * it, so a reader never sees half a file. Returns whether it wrote.
 */
export async function writeGenerated(file: string, text: string): Promise<boolean> {
  const current = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
  if (current === text) return false;
  await writeFile(`${file}.tmp`, text);
  await rename(`${file}.tmp`, file);
  return true;
}
