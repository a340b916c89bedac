import { signUp as signUpOperation } from "@/lib/auth/operations";
import { signUp } from "@/lib/auth/users";
import { handle, nextRoutes } from "@/lib/http/route";
import { clientIp, consume, signupPerIp } from "@/lib/rate-limit";

export const { GET, POST, PUT, PATCH, DELETE } = nextRoutes(
  handle(signUpOperation, async ({ req, actor, body }) => {
    await consume("signup-ip", clientIp(req), signupPerIp(), "Too many sign-ups from your address. Try again in an hour.");
    return signUp(actor, body);
  }),
);
