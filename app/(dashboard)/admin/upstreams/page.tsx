import type { Metadata } from "next";
import { requireOperator } from "@/app/(dashboard)/require-operator";
import { UpstreamsPage } from "@/components/admin/upstreams-page";

export const metadata: Metadata = { title: "Upstreams" };

export default async function Page() {
  await requireOperator("/admin/upstreams");
  return <UpstreamsPage />;
}
