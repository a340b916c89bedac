import { handle, nextRoutes } from "@/lib/http/route";
import { listAvailableModels } from "@/lib/models/operations";
import { activeModels } from "@/lib/models/catalogue";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(listAvailableModels, async () =>
    (await activeModels()).map((m) => ({ model: m.model, provider: m.provider, kind: m.kind })).sort((a, b) => a.model.localeCompare(b.model)),
  ),
);
