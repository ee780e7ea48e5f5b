import { inspect } from "node:util";
import { EnvironmentError } from "@pifleet/fleet";
import { describe, expect, it } from "vitest";
import { Secret, scrubTokens, secretFromEnv } from "./secret.js";

const VALUE = "glpat-abcdefghijklmnop1234";

describe("Secret", () => {
  const secret = new Secret(VALUE);

  it("shows [redacted] wherever it is printed", () => {
    expect(String(secret)).toBe("[redacted]");
    expect(`${secret}`).toBe("[redacted]");
    expect(JSON.stringify({ token: secret })).toBe('{"token":"[redacted]"}');
    expect(inspect({ token: secret })).not.toContain(VALUE);
    expect(inspect(secret, { showHidden: true, depth: 5 })).not.toContain(VALUE);
  });

  it("gives its value only through reveal()", () => {
    expect(secret.reveal()).toBe(VALUE);
  });
});

describe("scrubTokens", () => {
  it("removes GitLab-shaped tokens and known secrets", () => {
    const text = `401 for glrt-0123456789abcdef and ${VALUE}; also s3cret-value`;
    const out = scrubTokens(text, ["s3cret-value"]);
    expect(out).toBe("401 for [redacted] and [redacted]; also [redacted]");
  });

  it("accepts Secret values as known", () => {
    expect(scrubTokens("job token abcdef123456 leaked", [new Secret("abcdef123456")])).toBe("job token [redacted] leaked");
  });

  it("does not blank short known values (they would match ordinary words)", () => {
    expect(scrubTokens("the pi node", ["pi"])).toBe("the pi node");
  });

  it("masks a known secret that contains another one whole", () => {
    expect(scrubTokens("pw hunter2hunter2 end", ["hunter2", "hunter2hunter2"])).toBe("pw [redacted] end");
  });
});

/**
 * Real-world shapes secrets take in the text pifleet shows: config.toml and daemon.json diffs,
 * Ansible results (JSON inside JSON), GitLab error bodies, git and docker output, URLs.
 * Each entry: the text, then what must be left of it.
 */
const LEAKS: [string, string][] = [
  ['token = "glrt-t1_abcdefghijklmnopqrst"', 'token = "[redacted]"'],
  ['  token = "not-a-gitlab-shape-but-secret"', '  token = "[redacted]"'],
  ['password: "correct horse, battery staple"', 'password: "[redacted]"'],
  ["password: 'it has spaces'", "password: '[redacted]'"],
  ["db_password=plainvalue123 next=1", "db_password=[redacted] next=1"],
  ['{"api_key": "ab}c{d", "name": "x"}', '{"api_key": "[redacted]", "name": "x"}'],
  ['{"secret":"with \\"escaped\\" quotes","n":1}', '{"secret":"[redacted]","n":1}'],
  ['"msg": "{\\"token\\": \\"a b, c}\\", \\"user\\": \\"pi\\"}"', '"msg": "{\\"token\\": \\"[redacted]\\", \\"user\\": \\"pi\\"}"'],
  ['{"auths": {"198.18.0.1:5000": {"auth": "dXNlcjpwYXNzd29yZA=="}}}', '{"auths": {"198.18.0.1:5000": {"auth": "[redacted]"}}}'],
  ["    auth: dXNlcjpwYXNzd29yZA==", "    auth: [redacted]"],
  ["https://x/api/v4/runners/verify?token%3Dglrt-abcdefghijkl1234", "https://x/api/v4/runners/verify?token%3D[redacted]"],
  ["GITLAB_TOKEN=x_glpat-abcdefghijklmnopqrst", "GITLAB_TOKEN=[redacted]"],
  ["seen x_glpat-abcdefghijklmnopqrst in the log", "seen x_[redacted] in the log"],
  ["url: https://oauth2:glpat-abcdefghijklmnop@gitlab.example/x.git", "url: https://oauth2:[redacted]@gitlab.example/x.git"],
  ["remote: https://deploy:s3cr3t-pa55@198.18.0.1/group/p.git", "remote: https://deploy:[redacted]@198.18.0.1/group/p.git"],
  ["Authorization: Bearer eyJhbGciOi.payload.sig", "Authorization: Bearer [redacted]"],
  ["PRIVATE-TOKEN: abcdefghij0123456789", "PRIVATE-TOKEN: [redacted]"],
  ["password%3Dhunter22&user%3Dpi", "password%3D[redacted]&user%3Dpi"],
  ["registration token GR1348941abcdefghijklmnop", "registration token [redacted]"],
  ["glcbt-64_abcdefghijklmnopqrstu job token", "[redacted] job token"],
  [
    "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\ndone",
    "key:\n[redacted]\ndone",
  ],
  ['"content": "-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----\\n"', '"content": "[redacted]\\n"'],
  ["stderr tail: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI", "stderr tail: [redacted]"],
];

/** Text that looks near a secret but holds none: it must come back unchanged. */
const HARMLESS = [
  "PasswordAuthentication no",
  "max-size: 10m",
  "author: Jane Doe",
  "token_expires_at = 1970-01-01T00:00:00Z\ntoken_obtained_at = 2026-11-25T03:00:00Z",
  "ansible_ssh_private_key_file: /home/pi/.ssh/id_ed25519",
  "the token is missing, unknown or revoked",
  "password authentication failed for user pi",
  '{"auths": {}}',
  "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxx pi@pifleet",
  "https://198.18.0.1:8080/api/v4/projects/7",
  "glrt- short",
  "token: [redacted]",
];

describe("scrubTokens on real-world secret shapes", () => {
  it.each(LEAKS)("masks %j", (text, expected) => {
    expect(scrubTokens(text)).toBe(expected);
  });

  it.each(HARMLESS)("leaves %j alone", (text) => {
    expect(scrubTokens(text)).toBe(text);
  });

  it("changes nothing more when run twice", () => {
    for (const [text] of LEAKS) expect(scrubTokens(scrubTokens(text))).toBe(scrubTokens(text));
  });
});

describe("secretFromEnv", () => {
  it("reads the variable", () => {
    expect(secretFromEnv("TOKEN", { TOKEN: "value123" }).reveal()).toBe("value123");
  });

  it("is an EnvironmentError naming the variable when unset or empty", () => {
    expect(() => secretFromEnv("GITLAB_TOKEN", {})).toThrow(EnvironmentError);
    expect(() => secretFromEnv("GITLAB_TOKEN", { GITLAB_TOKEN: "" })).toThrow(/GITLAB_TOKEN is not set/);
  });
});
