import type { Metadata } from "next";
import { requireOperator } from "@/app/(dashboard)/require-operator";
import { AdminModelsPage } from "@/components/admin/admin-models-page";

export const metadata: Metadata = { title: "Models and prices" };

export default async function Page() {
  await requireOperator("/admin/models");
  return <AdminModelsPage />;
}
