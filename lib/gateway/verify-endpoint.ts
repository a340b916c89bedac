import type { IncomingMessage, ServerResponse } from "node:http";
import { limits } from "@/lib/limits";
import { keyPeriodStart } from "@/lib/limits/periods";
import { judgeSubscriptionKey, seedStore } from "@/lib/gateway/admission";
import { readJsonObject } from "@/lib/gateway/io";
import { sendJson, sendJsonError } from "@/lib/http/node-guards";
import { parseWith } from "@/lib/http/request";
import { HttpError } from "@/lib/http/errors";
import { verifyKeyRequestSchema, type KeyVerification } from "@/lib/keys/schemas";
import { verifyKey } from "@/lib/keys/verify";

/**
 * POST /api/keys/verify {key}: the gateway's own verdict on a key, for an
 * external gateway that wants to ask without sending traffic. Answered by the
 * gateway's router from memory for any key it has seen; only a malformed
 * request is a 4xx.
 */

/** A verify request is one key: a body above this is not a question but an abuse (413). */
const MAX_VERIFY_BODY_BYTES = 16 * 1024;

const NONE = { keyId: null, keyType: null, ownerId: null, limits: null, remaining: null } as const;

export async function verifyKeyRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const contentType = req.headers["content-type"] ?? "";
  if (!/^application\/json\b/i.test(contentType)) {
    req.resume();
    return sendJsonError(res, 415, "unsupported_media_type", 'Send the body as JSON with \'Content-Type: application/json\': {"key": "sk_…"}.');
  }
  const parsed = await readJsonObject(
    req,
    (status, message) => sendJsonError(res, status, status === 413 ? "payload_too_large" : "invalid_json", message),
    MAX_VERIFY_BODY_BYTES,
  );
  if (!parsed) return;
  let body: { key: string };
  try {
    body = parseWith(verifyKeyRequestSchema, parsed.json, "body");
  } catch (err) {
    if (err instanceof HttpError) return sendJsonError(res, err.status, err.code, err.message);
    throw err;
  }
  const data = await verdictFor(body.key, Date.now());
  sendJson(res, 200, { success: true, data });
}

export async function verdictFor(token: string, now: number): Promise<KeyVerification> {
  if (token.startsWith("mk_")) return { valid: false, code: "not_a_consumption_key", ...NONE };
  // Another instance may have paused or changed this key: catch up first (one GET with Redis, nothing without).
  const verdict = await verifyKey(token, now, { fresh: true });
  if (verdict.code === "malformed_key" || verdict.code === "unknown_key") return { valid: false, code: verdict.code, ...NONE };
  const key = verdict.key;
  if (!key || key.kind === "management") return { valid: false, code: "not_a_consumption_key", ...NONE };
  const described = {
    keyId: key.id,
    keyType: key.kind,
    ownerId: key.userId,
    limits: {
      rpm: key.rpmLimit,
      tpm: key.tpmLimit,
      maxBudget: key.maxBudgetMicros === null ? null : key.maxBudgetMicros / 1e6,
      expiresAt: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString(),
      allowedModels: key.allowedModels === null ? null : [...key.allowedModels],
    },
  };
  if (!verdict.ok) return { valid: false, code: verdict.code, ...described, remaining: null };
  if (key.kind === "subscription") {
    const judged = await judgeSubscriptionKey(key, now);
    // No budget and no rate limit: one request at a time, inside reserved blocks.
    return judged.ok ? { valid: true, code: "valid", ...described, remaining: null } : { valid: false, code: judged.code, ...described, remaining: null };
  }
  const keyLimits = { ...key, periodStart: keyPeriodStart(key, now) };
  let snap = await limits().peek(key.userId, key.id, keyLimits, now);
  if (!snap) {
    await seedStore(key, { account: true, key: true }, now);
    snap = await limits().peek(key.userId, key.id, keyLimits, now);
  }
  if (!snap) throw new Error("the limits store did not keep the key's figures");
  const remaining = {
    requests: key.rpmLimit === null ? null : snap.rate.rpmRemaining,
    tokens: key.tpmLimit === null ? null : snap.rate.tpmRemaining,
    budget: snap.keyAvailableMicros === null ? null : snap.keyAvailableMicros / 1e6,
    balance: snap.accountAvailableMicros / 1e6,
  };
  const code =
    snap.keyAvailableMicros !== null && snap.keyAvailableMicros <= 0 ? "budget_exceeded" : snap.accountAvailableMicros <= 0 ? "insufficient_balance" : "valid";
  return { valid: code === "valid", code, ...described, remaining };
}
