import { getAccount } from "@/lib/auth/operations";
import { getAccount as readAccount } from "@/lib/auth/users";
import { handle, nextRoutes } from "@/lib/http/route";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(handle(getAccount, async ({ actor }) => readAccount(actor)));
