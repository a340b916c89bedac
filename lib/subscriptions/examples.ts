import type { SubscriptionView } from "@/lib/subscriptions/schemas";

/** The example subscription the reference shows (made-up IDs and dates), shared by the pool and subscription operations. */
export const exampleSubscription: SubscriptionView = {
  id: "cm9x2k1q40005sub0night",
  poolId: "cm9x2k1q40004pool0night",
  poolName: "Night owls",
  blocks: [0, 3],
  blockHours: 6,
  renewalPriceUsd: 10,
  status: "active",
  periodStart: "2026-11-24T17:45:12.000Z",
  periodEnd: "2026-12-24T17:45:12.000Z",
  autoRenew: false,
  keyCount: 0,
  endedReason: null,
};
