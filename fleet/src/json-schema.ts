import { z } from "zod";
import { FleetSchema } from "./schema.js";

/**
 * JSON Schema for fleet.yaml, for editors (yaml-language-server) to complete
 * and check the file. Generated from the zod model, so the two cannot drift:
 * a unit test compares it with the committed fleet.schema.json.
 */
export function fleetJsonSchema(): Record<string, unknown> {
  // "input" describes what a person writes: keys with defaults are optional.
  const schema = z.toJSONSchema(FleetSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://pifleet.dev/fleet.schema.json",
    title: "pifleet fleet.yaml",
    description: "The single source of truth for a pifleet cluster. Generated from fleet/src/schema.ts; do not edit.",
  };
}

export function fleetJsonSchemaText(): string {
  return `${JSON.stringify(fleetJsonSchema(), null, 2)}\n`;
}
