import { z } from "zod";
import { defineOperation } from "@/lib/http/operation";
import { dayBlocks, PERIOD_DAYS } from "@/lib/pools/blocks";
import { createPoolSchema, poolViewSchema, subscribeSchema, updatePoolSchema, type PoolView } from "@/lib/pools/schemas";
import { exampleSubscription } from "@/lib/subscriptions/examples";
import { subscriptionViewSchema } from "@/lib/subscriptions/schemas";

/** Pools (the "Unlimited" product): the operator's pool admin, the pools on sale, and subscribing to one. */

const examplePool: PoolView = {
  id: "cm9x2k1q40004pool0night",
  name: "Night owls",
  models: ["gpt-4o-mini", "keygate/echo"],
  blockHours: 6,
  capacity: 5,
  pricePerBlockUsd: 1,
  periodDays: PERIOD_DAYS,
  active: true,
  blocks: dayBlocks(6).map((b) => ({ ...b, capacity: 5, remaining: b.index === 0 ? 2 : 5 })),
};

const poolId = { id: examplePool.id };
const ADMIN_MODELS =
  "`validation_error`: a field is invalid (unknown fields, a `blockHours` that does not divide the day, a model that is not in the catalogue); `details` names each one.";

export const listPools = defineOperation({
  id: "listPools",
  method: "GET",
  path: "/api/pools",
  tag: "Pools",
  summary: "List the pools on sale",
  description: `Each pool with its models, its price per block per ${PERIOD_DAYS}-day period, and the blocks of the UTC day with the seats left in each. Inactive pools are not listed.`,
  auth: "session-or-mk",
  scope: "billing:read",
  response: { status: 200, description: "The active pools, oldest first.", schema: z.array(poolViewSchema), shape: "envelope" },
  examples: { response: [examplePool] },
});

export const getPool = defineOperation({
  id: "getPool",
  method: "GET",
  path: "/api/pools/{id}",
  tag: "Pools",
  summary: "One pool and its seats",
  auth: "session-or-mk",
  scope: "billing:read",
  response: { status: 200, description: "The pool.", schema: poolViewSchema, shape: "envelope" },
  errors: { 404: "`not_found`: no pool with this ID is on sale." },
  examples: { params: poolId, response: examplePool },
});

export const subscribeToPool = defineOperation({
  id: "subscribeToPool",
  method: "POST",
  audit: { action: "subscription.create", targetType: "subscription" },
  path: "/api/pools/{id}/subscribe",
  tag: "Pools",
  summary: "Reserve time blocks of a pool",
  description: `Charges \`blocks.length × pricePerBlockUsd\` to your credit balance, in the same transaction as the seats it takes, and answers with the subscription: one period of ${PERIOD_DAYS} days from now. Then create keys for it with \`POST /api/keys/subscription\`. When two callers race for the last seat, one wins and the other gets 409 and is not charged. You may hold several subscriptions.`,
  auth: "session-or-mk",
  scope: "pools:write",
  body: subscribeSchema,
  response: { status: 201, description: "The subscription.", schema: subscriptionViewSchema, shape: "envelope" },
  errors: {
    400: "`validation_error`: `blocks` is empty, names a block twice, or names one the pool does not have.",
    402: "`insufficient_balance`: your credit cannot pay for the blocks; the message says the price and what you have.",
    404: "`not_found`: no pool with this ID is on sale.",
    409: "`block_full`: a block has no seat left; the message and `details` name each full block.",
  },
  examples: { params: poolId, body: { blocks: [0, 3] }, response: exampleSubscription },
});

export const listAllPools = defineOperation({
  id: "listAllPools",
  method: "GET",
  path: "/api/admin/pools",
  tag: "Pools",
  summary: "List every pool (operator)",
  description: "Every pool, on sale or not, with its seats. Operators only (`ADMIN_API_TOKEN`, or an operator's session).",
  auth: "admin",
  response: { status: 200, description: "Every pool, oldest first.", schema: z.array(poolViewSchema), shape: "envelope" },
  examples: { response: [examplePool, { ...examplePool, id: "cm9x2k1q40006pool0old", name: "Retired", active: false }] },
});

export const createPool = defineOperation({
  id: "createPool",
  method: "POST",
  audit: { action: "pool.create", targetType: "pool" },
  path: "/api/admin/pools",
  tag: "Pools",
  summary: "Create a pool (operator)",
  description:
    "Operators only (`ADMIN_API_TOKEN`, or an operator's session). The models must be in the catalogue (or be the demo model `keygate/echo`). The pool goes on sale at once.",
  auth: "admin",
  body: createPoolSchema,
  response: { status: 201, description: "The pool.", schema: poolViewSchema, shape: "envelope" },
  errors: { 400: ADMIN_MODELS },
  examples: {
    body: { name: "Night owls", models: ["gpt-4o-mini", "keygate/echo"], blockHours: 6, capacity: 5, pricePerBlockUsd: 1 },
    response: { ...examplePool, blocks: examplePool.blocks.map((b) => ({ ...b, remaining: 5 })) },
  },
});

export const updatePool = defineOperation({
  id: "updatePool",
  method: "PUT",
  audit: { action: "pool.update", targetType: "pool" },
  path: "/api/admin/pools/{id}",
  tag: "Pools",
  summary: "Change a pool (operator)",
  description:
    "Operators only (`ADMIN_API_TOKEN`, or an operator's session). Changes the fields sent. A new price applies to new subscriptions and renewals. Lowering `capacity` below the seats taken only stops new sales. `active: false` takes the pool off sale and stops its keys. `blockHours` can change only while none of its subscriptions is active.",
  auth: "admin",
  body: updatePoolSchema,
  response: { status: 200, description: "The pool as it now is.", schema: poolViewSchema, shape: "envelope" },
  errors: {
    400: ADMIN_MODELS,
    404: "`not_found`: no pool has this ID.",
    409: "`pool_in_use`: `blockHours` cannot change while a subscription of the pool is active.",
  },
  examples: {
    params: poolId,
    body: { capacity: 8, pricePerBlockUsd: 1.5 },
    response: {
      ...examplePool,
      capacity: 8,
      pricePerBlockUsd: 1.5,
      blocks: examplePool.blocks.map((b) => ({ ...b, capacity: 8, remaining: b.remaining + 3 })),
    },
  },
});
