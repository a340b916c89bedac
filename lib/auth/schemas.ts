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
  })
  .meta({ id: "Account", description: "Your account, and whether you are an operator." });

export type PublicUser = z.infer<typeof userSchema>;
export type Account = z.infer<typeof accountSchema>;
