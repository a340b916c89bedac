import { handle, nextRoutes } from "@/lib/http/route";
import { deleteModel, listModels, upsertModel } from "@/lib/models/operations";
import { deleteModel as removeModel, listModels as findModels, upsertModel as saveModel } from "@/lib/models/service";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listModels, async () => findModels()),
  handle(upsertModel, async ({ body }) => saveModel(body)),
  handle(deleteModel, async ({ query }) => {
    await removeModel(query.model);
    return { deleted: true as const };
  }),
);
