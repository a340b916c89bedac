import { z } from "zod";

/** Pool subscriptions' request and response schemas; the view type is `z.infer` of them. */

export const SUBSCRIPTION_STATUSES = ["active", "expired", "cancelled"] as const;

export const updateSubscriptionSchema = z.strictObject({
  autoRenew: z.boolean({ error: "autoRenew must be true or false" }).meta({
    description:
      "true renews the subscription from your credit balance when its period ends (charged up to a minute before, so its keys never lapse); false lets it expire. A subscription whose period has ended must be renewed with `POST /api/subscriptions/{id}/renew`.",
  }),
});

export type UpdateSubscriptionInput = z.output<typeof updateSubscriptionSchema>;

const isoDateTime = () => z.iso.datetime();

export const subscriptionViewSchema = z
  .strictObject({
    id: z.string().meta({ description: "Opaque subscription ID; `POST /api/keys/subscription` takes it as `subscriptionId`." }),
    poolId: z.string(),
    poolName: z.string(),
    blocks: z.array(z.number().int()).meta({ description: "The reserved block indices of the pool's day, ascending." }),
    blockHours: z.number().int().meta({ description: "The pool's block length: block i covers hours [i*blockHours, (i+1)*blockHours) UTC." }),
    renewalPriceUsd: z.number().meta({ description: "What renewing costs now: the blocks times the pool's current price per block, for one 30-day period." }),
    status: z.enum(SUBSCRIPTION_STATUSES).meta({
      description:
        "`active` while the paid period lasts; `expired` once it has ended (also before the periodic sweep has recorded it); `cancelled` when it can no longer be renewed (its pool's block length changed).",
    }),
    periodStart: isoDateTime().meta({ description: "When the current paid coverage began." }),
    periodEnd: isoDateTime().meta({ description: "When it ends: the subscription's keys stop working then, unless it is renewed." }),
    autoRenew: z.boolean(),
    keyCount: z.number().int().meta({ description: "How many keys the subscription has." }),
    endedReason: z.string().nullable().meta({ description: "Why it ended, in words (e.g. an auto-renewal the balance could not pay); null while active." }),
  })
  .meta({ id: "Subscription", description: "Reserved blocks of one pool, paid per 30-day period." });

export type SubscriptionView = z.infer<typeof subscriptionViewSchema>;
export type SubscriptionStatusName = (typeof SUBSCRIPTION_STATUSES)[number];
