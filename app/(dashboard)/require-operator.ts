import { notFound } from "next/navigation";
import { requireUser } from "@/app/(dashboard)/require-user";
import { isOperatorEmail } from "@/lib/env";

/**
 * For the Admin pages: the signed-in operator. A visitor who is not signed in
 * goes to sign-in, as on every dashboard page; a signed-in user who is not an
 * operator gets the 404 page, as /api/admin/* answers them 404: the Admin
 * section does not exist for them. The same check as GET /api/account's
 * `isOperator` (KEYGATE_ADMIN_EMAILS), decided here on the server so the page
 * never reaches a non-operator's browser.
 */
export async function requireOperator(returnTo: string) {
  const user = await requireUser(returnTo);
  if (!isOperatorEmail(user.email)) notFound();
  return user;
}
