import { redirect } from "next/navigation";
import { requireUser } from "@/app/(dashboard)/require-user";

export const dynamic = "force-dynamic";

/** Sign-in lands on "/" by default: the Overview is the dashboard's first page. */
export default async function HomePage() {
  await requireUser("/overview");
  redirect("/overview");
}
