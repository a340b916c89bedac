/**
 * next-auth/react parses NEXTAUTH_URL as it is imported, and a blank value
 * (the server's default: the address comes from each request) throws while
 * the page renders on the server. Loaded on use, it only runs in the browser.
 */
export function loadNextAuthClient() {
  return import("next-auth/react");
}
