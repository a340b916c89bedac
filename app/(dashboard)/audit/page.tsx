import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { AuditPage } from "@/components/audit/audit-page";

export const metadata: Metadata = { title: "Audit log" };

export default async function Page() {
  await requireUser("/audit");
  return <AuditPage />;
}
