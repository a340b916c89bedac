import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { browsingOrigin } from "@/app/(dashboard)/browsing-origin";
import { snippetModel } from "@/app/(dashboard)/keys/snippet-model";
import { KeysPage } from "@/components/keys/keys-page";

export const metadata: Metadata = { title: "API Keys" };

export default async function Page() {
  await requireUser("/keys");
  return <KeysPage origin={await browsingOrigin()} model={await snippetModel()} />;
}
