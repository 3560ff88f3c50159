// Verifies recorded Waffo webhooks with the official SDK's verifyWebhook, given paymock's public key.
// stdin: {"publicKey": "<PEM>", "deliveries": [{"body": "...", "signature": "t=...,v1=..."}]}
// stdout: [{"ok": true, "event": {...}} | {"ok": false, "error": "..."}], one per delivery.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

// The SDK is installed once, under tests/waffo/sdk (npm ci from its package-lock).
const require = createRequire(new URL("../waffo/sdk/package.json", import.meta.url));
const { verifyWebhook } = require("@waffo/pancake-ts");

const input = JSON.parse(readFileSync(0, "utf8"));
const results = input.deliveries.map(({ body, signature }) => {
  try {
    return { ok: true, event: verifyWebhook(body, signature, { publicKey: input.publicKey }) };
  } catch (err) {
    return { ok: false, error: String(err && err.message ? err.message : err) };
  }
});
process.stdout.write(JSON.stringify(results));
