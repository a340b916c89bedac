import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { BillingPage } from "@/components/billing/billing-page";

export const metadata: Metadata = { title: "Billing" };

export default async function Page() {
  await requireUser("/billing");
  return <BillingPage />;
}
