import type { Metadata } from "next";
import { requireOperator } from "@/app/(dashboard)/require-operator";
import { ModelRoutesPage } from "@/components/admin/model-routes-page";

export const metadata: Metadata = { title: "Model routes" };

export default async function Page() {
  await requireOperator("/admin/models");
  return <ModelRoutesPage />;
}
