import { ok, route, unsupportedMethods } from "@/lib/http/route";
import { signUpSchema } from "@/lib/auth/schemas";
import { signUp } from "@/lib/auth/users";
import { clientIp, consume, signupPerIp } from "@/lib/rate-limit";

export const POST = route({ auth: "none", body: signUpSchema }, async ({ req, body }) => {
  await consume("signup-ip", clientIp(req), signupPerIp(), "Too many sign-ups from your address. Try again in an hour.");
  const user = await signUp(body);
  return ok(user, 201);
});

export const { GET, PUT, PATCH, DELETE } = unsupportedMethods("POST");
