import { getBillingStatus } from "@/lib/billing/operations";
import { billingStatus } from "@/lib/billing/status";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(getBillingStatus, async ({ actor }) => billingStatus(actor)));
