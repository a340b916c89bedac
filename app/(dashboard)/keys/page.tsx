import type { Metadata } from "next";
import { requireUser } from "@/lib/auth/session";
import { KeysPage } from "@/components/keys/keys-page";

export const metadata: Metadata = { title: "API Keys" };

export default async function Page() {
  await requireUser("/keys");
  return <KeysPage />;
}
