import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { browsingOrigin } from "@/app/(dashboard)/browsing-origin";
import { BillingKeysPage } from "@/components/billing-keys/billing-keys-page";

export const metadata: Metadata = { title: "Billing Keys" };

export default async function Page() {
  await requireUser("/billing-keys");
  return <BillingKeysPage origin={await browsingOrigin()} />;
}
