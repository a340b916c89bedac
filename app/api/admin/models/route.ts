import { handle, nextRoutes } from "@/lib/http/route";
import { deleteModel, listModels, upsertModel } from "@/lib/models/operations";
import { deleteModel as removeModel, listModels as findModels, upsertModel as saveModel } from "@/lib/models/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listModels, async () => findModels()),
  handle(upsertModel, async ({ actor, body }) => saveModel(actor, body)),
  handle(deleteModel, async ({ actor, query }) => {
    await removeModel(actor, query.model);
    return { deleted: true as const };
  }),
);
