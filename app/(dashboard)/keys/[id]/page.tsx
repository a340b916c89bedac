import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { browsingOrigin } from "@/app/(dashboard)/browsing-origin";
import { snippetModel } from "@/app/(dashboard)/keys/snippet-model";
import { KeyDetailPage } from "@/components/keys/key-detail-page";

export const metadata: Metadata = { title: "API key" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await requireUser(`/keys/${encodeURIComponent(id)}`);
  return <KeyDetailPage keyId={id} origin={await browsingOrigin()} model={await snippetModel()} />;
}
