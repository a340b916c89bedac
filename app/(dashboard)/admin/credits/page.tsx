import type { Metadata } from "next";
import { requireOperator } from "@/app/(dashboard)/require-operator";
import { GrantCreditPage } from "@/components/admin/grant-credit-page";

export const metadata: Metadata = { title: "Credits" };

export default async function Page() {
  await requireOperator("/admin/credits");
  return <GrantCreditPage />;
}
