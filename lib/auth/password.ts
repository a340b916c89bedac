import { hash, verify } from "@node-rs/argon2";

// argon2id with the library's defaults (19 MiB, 2 passes), OWASP's baseline.
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Verified against when the account does not exist, so a wrong email costs
// the same time as a wrong password and does not reveal who has signed up.
const DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$pnlgewNw/LM79V4Ufxpg2A$6gFjGwNDAJo1DmB8HEzG+lbMUSD/LDeWRmdT9GYK9oI";

export async function verifyPassword(passwordHash: string | null, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash ?? DUMMY_HASH, password);
  } catch {
    return false;
  }
}
