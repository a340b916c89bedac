import { passwordSignIn } from "@/lib/auth/login";
import { createSessionToken } from "@/lib/auth/operations";
import { issueSessionToken } from "@/lib/auth/session-token";
import { UnauthorizedError } from "@/lib/http/errors";
import { handle, nextRoutes } from "@/lib/http/route";

/** A session token for scripts: the same JWT the dashboard's cookie holds. */
export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(createSessionToken, async ({ actor, body }) => {
    const user = await passwordSignIn(body.email, body.password, actor);
    if (!user) throw new UnauthorizedError("Email or password is incorrect.", "invalid_credentials");
    const { token, expiresAt } = await issueSessionToken(user);
    return { token, expiresAt: expiresAt.toISOString() };
  }),
);
