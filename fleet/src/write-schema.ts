import { writeFile } from "node:fs/promises";
import { fleetJsonSchemaText } from "./json-schema.js";

// `npm run schema -w fleet`: regenerates fleet/fleet.schema.json from the zod model.
const target = new URL("../fleet.schema.json", import.meta.url);
await writeFile(target, fleetJsonSchemaText());
process.stdout.write(`wrote ${target.pathname}\n`);
