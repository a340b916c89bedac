import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { UnauthorizedError } from "@/lib/http/errors";
import { signInSchema } from "@/lib/auth/schemas";
import { passwordSignIn } from "@/lib/auth/login";
import { issueSessionToken } from "@/lib/auth/session-token";
import { clientIp } from "@/lib/rate-limit";

/** A session token for scripts: the same JWT the dashboard's cookie holds. */
export const POST = route({ auth: "none", body: signInSchema }, async ({ req, body }) => {
  const user = await passwordSignIn(body.email, body.password, clientIp(req));
  if (!user) throw new UnauthorizedError("Email or password is incorrect.", "invalid_credentials");
  const { token, expiresAt } = await issueSessionToken(user);
  return ok({ token, expiresAt: expiresAt.toISOString() });
});

export const { GET, PUT, PATCH, DELETE } = unsupportedMethods("POST");
