import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { billingStatus } from "@/lib/billing/status";

export const GET = route({ auth: "session-or-mk" }, async ({ caller }) => ok(await billingStatus(caller.userId)));

export const { POST, PUT, PATCH, DELETE } = unsupportedMethods("GET");
