import { idParam, ok, route, unsupportedMethods } from "@/lib/http/route";
import { updateKeySchema } from "@/lib/keys/schemas";
import { deleteKey, updateKey } from "@/lib/keys/service";

export const PUT = route({ auth: "session-or-mk", body: updateKeySchema }, async ({ caller, body, params }) => {
  return ok(await updateKey(caller.userId, idParam(params), body));
});

export const DELETE = route({ auth: "session-or-mk" }, async ({ caller, params }) => {
  await deleteKey(caller.userId, idParam(params));
  return ok({ deleted: true });
});

export const { GET, POST, PATCH } = unsupportedMethods("PUT", "DELETE");
