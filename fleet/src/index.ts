export * from "./cluster.js";
export * from "./derive.js";
export * from "./errors.js";
export { fleetJsonSchema, fleetJsonSchemaText } from "./json-schema.js";
export * from "./load.js";
export * from "./schema.js";
export { diagnosticAt, formatPath, type LocatedYaml, locate, type PathSegment, parseLocatedYaml } from "./source-map.js";
export * from "./topology.js";
