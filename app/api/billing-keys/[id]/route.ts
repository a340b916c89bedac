import { idParam, raw, route, unsupportedMethods } from "@/lib/http/route";
import { deleteManagementKey } from "@/lib/keys/management";

export const DELETE = route({ auth: "session" }, async ({ caller, params }) => {
  await deleteManagementKey(caller.userId, idParam(params));
  return raw({ status: "deleted" });
});

export const { GET, POST, PUT, PATCH } = unsupportedMethods("DELETE");
