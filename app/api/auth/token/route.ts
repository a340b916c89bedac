import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { UnauthorizedError } from "@/lib/http/errors";
import { signInSchema } from "@/lib/auth/schemas";
import { checkCredentials } from "@/lib/auth/users";
import { issueSessionToken } from "@/lib/auth/session-token";
import { clientIp, consume, LOGIN_PER_EMAIL, LOGIN_PER_IP } from "@/lib/rate-limit";

/** A session token for scripts: the same JWT the dashboard's cookie holds. */
export const POST = route({ auth: "none", body: signInSchema }, async ({ req, body }) => {
  await consume("login-ip", clientIp(req), LOGIN_PER_IP, "Too many sign-in attempts from your address. Wait 15 minutes and try again.");
  await consume("login-email", body.email, LOGIN_PER_EMAIL, "Too many sign-in attempts for this account. Wait 15 minutes and try again.");
  const user = await checkCredentials(body.email, body.password);
  if (!user) throw new UnauthorizedError("Email or password is incorrect.", "invalid_credentials");
  const { token, expiresAt } = await issueSessionToken(user);
  return ok({ token, expiresAt: expiresAt.toISOString() });
});

export const { GET, PUT, PATCH, DELETE } = unsupportedMethods("POST");
