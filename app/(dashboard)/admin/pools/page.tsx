import type { Metadata } from "next";
import { requireOperator } from "@/app/(dashboard)/require-operator";
import { AdminPoolsPage } from "@/components/admin/admin-pools-page";

export const metadata: Metadata = { title: "Pools (admin)" };

export default async function Page() {
  await requireOperator("/admin/pools");
  return <AdminPoolsPage />;
}
