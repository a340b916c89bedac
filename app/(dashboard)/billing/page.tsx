import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { BillingPage } from "@/components/billing/billing-page";
import { stripeSettings } from "@/lib/env";

export const metadata: Metadata = { title: "Billing" };

export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requireUser("/billing");
  const { topup } = await searchParams;
  // Stripe sends the browser back here with ?topup=success or ?topup=cancelled (lib/billing/stripe.ts).
  const returned = topup === "success" || topup === "cancelled" ? topup : undefined;
  // Only whether card top-ups are on crosses to the browser, never the keys.
  return <BillingPage topUps={stripeSettings() !== null} returnedFromCheckout={returned} />;
}
