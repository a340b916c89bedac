import { getAccount, updateAccount } from "@/lib/auth/operations";
import { getAccount as readAccount, updateAccount as changeAccount } from "@/lib/auth/users";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(getAccount, async ({ actor }) => readAccount(actor)),
  handle(updateAccount, async ({ actor, body }) => changeAccount(actor, body)),
);
