import { raw, route, unsupportedMethods } from "@/lib/http/route";
import { openApiDocument } from "@/lib/openapi";

/** The OpenAPI 3.1 document of /api, generated from the schemas the handlers parse with. */
export const GET = route({ auth: "none" }, async () => raw(openApiDocument()));

export const { POST, PUT, PATCH, DELETE } = unsupportedMethods("GET");
