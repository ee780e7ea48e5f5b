// Public API of @pifleet/counter-service: the page-view counter itself (express, redis, pino, prom-client).
export { type AppConfig, ConfigError, loadConfig } from "./app/config.js";
export { isValidPageKey, PAGE_KEY } from "./app/keys.js";
export { type RunningApp, startCounterApp } from "./app/server.js";
