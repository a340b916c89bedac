import { defineOperation } from "@/lib/http/operation";
import { accountSchema, sessionTokenSchema, signInSchema, signUpSchema, updateAccountSchema, userSchema } from "@/lib/auth/schemas";

/** Accounts: sign-up, session tokens for scripts, and the caller's own account. */

const exampleUser = { id: "cm9x2k1q40000user0ada", email: "ada@example.com", name: "Ada", createdAt: "2026-11-01T09:30:00.000Z" };

export const signUp = defineOperation({
  id: "signUp",
  method: "POST",
  audit: { action: "account.create", targetType: "user" },
  path: "/api/auth/signup",
  tag: "Accounts",
  summary: "Create an account",
  description: "Rate-limited per client address.",
  auth: "none",
  body: signUpSchema,
  response: { status: 201, description: "The account was created.", schema: userSchema, shape: "envelope" },
  errors: { 409: "`email_taken`: an account with this email already exists.", 429: "`rate_limited`: too many sign-ups from this address." },
  examples: { body: { email: "ada@example.com", password: "correct horse battery", name: "Ada" }, response: exampleUser },
});

export const createSessionToken = defineOperation({
  id: "createSessionToken",
  method: "POST",
  audit: { action: "auth.sign_in", targetType: "user" },
  path: "/api/auth/token",
  tag: "Accounts",
  summary: "Exchange email and password for a session token",
  description:
    "The token is the same session JWT the dashboard's cookie holds, and is accepted as a Bearer token everywhere a session is. Rate-limited per address and per account against password guessing: parallel guesses are counted before any is checked.",
  auth: "none",
  body: signInSchema,
  response: { status: 200, description: "A session token.", schema: sessionTokenSchema, shape: "envelope" },
  errors: {
    401: "`invalid_credentials`: the email or password is incorrect.",
    429: "`rate_limited`: too many attempts from this address or for this account. See `Retry-After`.",
  },
  examples: {
    body: { email: "ada@example.com", password: "correct horse battery" },
    response: { token: "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..kX3r8z1n0cQ4lY7w.…", expiresAt: "2026-12-25T09:30:00.000Z" },
  },
});

export const getAccount = defineOperation({
  id: "getAccount",
  method: "GET",
  path: "/api/account",
  tag: "Accounts",
  summary: "Your account",
  description:
    "The account the credentials belong to: the signed-in user, or the owner of the management key. `isOperator` tells the dashboard whether to show the Admin section.",
  auth: "session-or-mk",
  scope: "billing:read",
  response: { status: 200, description: "The caller's account.", schema: accountSchema, shape: "envelope" },
  examples: { response: { ...exampleUser, isOperator: false, lowBalanceUsd: 1 } },
});

export const updateAccount = defineOperation({
  id: "updateAccount",
  method: "PUT",
  audit: { action: "account.update", targetType: "user" },
  path: "/api/account",
  tag: "Accounts",
  summary: "Change your account's settings",
  description: "Sets `lowBalanceUsd`, the balance below which the `account.balance.low` webhook event fires (once each time the balance falls below it).",
  auth: "session-or-mk",
  scope: "webhooks:write",
  body: updateAccountSchema,
  response: { status: 200, description: "The account as it now is.", schema: accountSchema, shape: "envelope" },
  examples: { body: { lowBalanceUsd: 5 }, response: { ...exampleUser, isOperator: false, lowBalanceUsd: 5 } },
});
