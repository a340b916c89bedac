import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { UsagePage } from "@/components/usage/usage-page";

export const metadata: Metadata = { title: "Usage" };

export default async function Page() {
  await requireUser("/usage");
  return <UsagePage />;
}
