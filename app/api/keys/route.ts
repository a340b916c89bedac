import { handle, nextRoutes } from "@/lib/http/route";
import { createProxyKey, listKeys } from "@/lib/keys/operations";
import { createCreditKey, listKeys as findKeys } from "@/lib/keys/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listKeys, async ({ actor, query }) => {
    const { items, nextCursor } = await findKeys(actor, query);
    return { success: true as const, data: items, nextCursor };
  }),
  // The ModelSwitch create: a credit key, answered in that API's documented shape.
  handle(createProxyKey, async ({ actor, body }) => {
    const { record, apiKey } = await createCreditKey(actor, body);
    return { id: record.id, key: apiKey };
  }),
);
