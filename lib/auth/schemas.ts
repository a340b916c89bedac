import { z } from "zod";

/** Account request and response schemas, shared by the API and the sign-up/sign-in forms. */

export const emailSchema = z
  .string({ error: "email must be a string" })
  .trim()
  .toLowerCase()
  .max(254, "email must be at most 254 characters")
  .pipe(z.email({ error: "email must be a valid email address, e.g. ada@example.com" }))
  .meta({ description: "The account's email address; compared case-insensitively.", format: "email" });

export const PASSWORD_MIN_LENGTH = 10;

export const newPasswordSchema = z
  .string({ error: "password must be a string" })
  .min(PASSWORD_MIN_LENGTH, `password must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(200, "password must be at most 200 characters");

export const signUpSchema = z.strictObject({
  email: emailSchema,
  password: newPasswordSchema.meta({ description: "Stored only as a slow (argon2id) hash." }),
  name: z
    .string({ error: "name must be a string" })
    .trim()
    .min(1, "name must not be empty")
    .max(100, "name must be at most 100 characters")
    .optional()
    .meta({ description: "A display name." }),
});

export const signInSchema = z.strictObject({
  email: emailSchema,
  password: z
    .string({ error: "password must be a string" })
    .min(1, "password is required")
    .max(200, "password must be at most 200 characters")
    .meta({ description: "The account's password." }),
});

export type SignUpInput = z.infer<typeof signUpSchema>;

export const userSchema = z
  .strictObject({
    id: z.string(),
    email: z.string(),
    name: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: "User", description: "An account." });

export const sessionTokenSchema = z.strictObject({
  token: z.string().meta({ description: "The session JWT. Send it as `Authorization: Bearer <token>`." }),
  expiresAt: z.iso.datetime(),
});

export const accountSchema = userSchema
  .extend({
    isOperator: z.boolean().meta({
      description:
        "Whether these credentials may use the operator endpoints (`/api/admin/*`): a session of a user `KEYGATE_ADMIN_EMAILS` lists. Always `false` for a management key, which is never accepted there.",
    }),
    lowBalanceUsd: z.number().meta({
      description:
        "The `account.balance.low` webhook event fires when the balance falls below this many US dollars (default 1). Change it with `PUT /api/account`.",
    }),
  })
  .meta({ id: "Account", description: "Your account, and whether you are an operator." });

export const updateAccountSchema = z.strictObject({
  lowBalanceUsd: z
    .number({ error: "lowBalanceUsd must be a number of US dollars, e.g. 5" })
    .min(0, "lowBalanceUsd must be at least 0 (0 turns the alert off: a balance cannot fall below 0 by usage)")
    .max(1_000_000, "lowBalanceUsd must be at most 1,000,000")
    .refine((n) => Math.round(n * 1_000_000) / 1_000_000 === n, "lowBalanceUsd can have at most 6 decimal places")
    .meta({ description: "The balance, in US dollars, below which `account.balance.low` fires (once per crossing)." }),
});

export type UpdateAccountInput = z.infer<typeof updateAccountSchema>;

export type PublicUser = z.infer<typeof userSchema>;
export type Account = z.infer<typeof accountSchema>;
