import type { Metadata } from "next";
import { requireOperator } from "@/app/(dashboard)/require-operator";
import { AdminAuditPage } from "@/components/audit/audit-page";

export const metadata: Metadata = { title: "Audit log (all accounts)" };

export default async function Page() {
  await requireOperator("/admin/audit");
  return <AdminAuditPage />;
}
