import { handle, nextRoutes } from "@/lib/http/route";
import { createCreditKey } from "@/lib/keys/operations";
import { createCreditKey as issueCreditKey, toApiKeyView } from "@/lib/keys/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(createCreditKey, async ({ actor, body }) => {
    const { record, apiKey } = await issueCreditKey(actor, body);
    return { ...toApiKeyView(record), apiKey };
  }),
);
