import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { OverviewPage } from "@/components/usage/overview-page";

export const metadata: Metadata = { title: "Overview" };

export default async function Page() {
  await requireUser("/overview");
  return <OverviewPage />;
}
