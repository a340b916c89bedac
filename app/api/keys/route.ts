import { handle, nextRoutes } from "@/lib/http/route";
import { createProxyKey, listKeys } from "@/lib/keys/operations";
import { createCreditKey, listKeys as findKeys } from "@/lib/keys/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listKeys, async ({ caller, query }) => {
    const { items, nextCursor } = await findKeys(caller.userId, query);
    return { success: true as const, data: items, nextCursor };
  }),
  // The ModelSwitch create: a credit key, answered in that API's documented shape.
  handle(createProxyKey, async ({ caller, body }) => {
    const { record, apiKey } = await createCreditKey(caller.userId, body);
    return { id: record.id, key: apiKey };
  }),
);
