import { z } from "zod";

/** Shared by the API and the sign-up/sign-in forms. */

export const emailSchema = z
  .string({ error: "email must be a string" })
  .trim()
  .toLowerCase()
  .max(254, "email must be at most 254 characters")
  .pipe(z.email({ error: "email must be a valid email address, e.g. ada@example.com" }));

export const PASSWORD_MIN_LENGTH = 10;

export const newPasswordSchema = z
  .string({ error: "password must be a string" })
  .min(PASSWORD_MIN_LENGTH, `password must be at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(200, "password must be at most 200 characters");

export const signUpSchema = z.strictObject({
  email: emailSchema,
  password: newPasswordSchema,
  name: z.string({ error: "name must be a string" }).trim().min(1, "name must not be empty").max(100, "name must be at most 100 characters").optional(),
});

export const signInSchema = z.strictObject({
  email: emailSchema,
  password: z.string({ error: "password must be a string" }).min(1, "password is required").max(200, "password must be at most 200 characters"),
});

export type SignUpInput = z.infer<typeof signUpSchema>;
