import { redirect } from "next/navigation";
import { requireUser } from "@/app/(dashboard)/require-user";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  await requireUser("/keys");
  redirect("/keys");
}
