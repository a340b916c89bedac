"use client";

import { loadNextAuthClient } from "@/components/auth/next-auth-client";
import { Button } from "@/components/ui/button";

export function SignOutButton() {
  return (
    <Button variant="secondary" size="sm" onClick={async () => (await loadNextAuthClient()).signOut({ callbackUrl: "/sign-in" })}>
      Sign out
    </Button>
  );
}
