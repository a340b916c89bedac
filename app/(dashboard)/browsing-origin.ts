import { headers } from "next/headers";
import { env } from "@/lib/env";

/**
 * The origin for links and curl examples on a page: NEXTAUTH_URL when the
 * operator configured one, else the address this browser used to reach us
 * (the Host header, and the scheme Next derived from the socket or a trusted
 * proxy), so a user on 127.0.0.1 or a LAN name is not sent to localhost.
 */
export async function browsingOrigin(): Promise<string> {
  const configured = env().NEXTAUTH_URL;
  if (configured) return new URL(configured).origin;
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? `localhost:${env().PORT}`;
  const proto = h.get("x-forwarded-proto") === "https" ? "https" : "http";
  return `${proto}://${host}`;
}
