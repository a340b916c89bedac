import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { WebhooksPage } from "@/components/webhooks/webhooks-page";

export const metadata: Metadata = { title: "Webhooks" };

export default async function Page() {
  await requireUser("/webhooks");
  return <WebhooksPage />;
}
