import { getOpenApiDocument } from "@/lib/api/operations";
import { handle, nextRoutes } from "@/lib/http/route";
import { openApiDocument } from "@/lib/openapi";

/** The OpenAPI 3.1 document of /api, generated from the operation declarations. */
export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(getOpenApiDocument, async () => openApiDocument()));
