export * from "./gitlab/index.js";
