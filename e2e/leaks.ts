import { expect, type Page, type Response } from "@playwright/test";

/**
 * Proof that a show-once secret really is shown once. Attach before the key is
 * created; call `afterSecretShown()` once the modal has closed; then
 * `expectSecretGone(secret)` as often as you like (after a reload, after
 * more clicks). It looks everywhere the page could still hold the secret:
 *
 * - the DOM, including Next's inlined RSC payload (page.content());
 * - localStorage, sessionStorage, cookies and history.state;
 * - TanStack Query's query and mutation caches, read from the live
 *   QueryClient (found through React's fiber tree);
 * - every URL the page requested or navigated to, and every console line;
 * - the body of every same-origin response received after the modal closed.
 */
export interface SecretLeakWatch {
  afterSecretShown(): void;
  /** Resolves to the number of /api response bodies checked so far, so a test can insist there were some. */
  expectSecretGone(secret: string): Promise<number>;
}

export function watchSecretLeaks(page: Page): SecretLeakWatch {
  const urls: string[] = [];
  const consoleLines: string[] = [];
  const laterBodies: Array<Promise<{ url: string; body: string | null; navigatedSince: boolean }>> = [];
  let secretShown = false;
  // Main-frame navigations so far. A body Chromium dropped because the page
  // that asked for it was replaced (a reload while a refetch was in flight)
  // cannot reach any page; one dropped without a navigation is a failure.
  let navigations = 0;
  const origin = () => new URL(page.url()).origin;

  page.on("request", (req) => urls.push(req.url()));
  page.on("framenavigated", (frame) => {
    urls.push(frame.url());
    if (frame === page.mainFrame()) navigations++;
  });
  page.on("console", (msg) => consoleLines.push(msg.text()));
  page.on("response", (res) => {
    if (!secretShown || new URL(res.url()).origin !== origin()) return;
    const navigationsThen = navigations;
    laterBodies.push(readBody(res).then((body) => ({ url: res.url(), body, navigatedSince: navigations !== navigationsThen })));
  });

  return {
    afterSecretShown() {
      secretShown = true;
    },
    async expectSecretGone(secret) {
      expect(secret.length, "a real secret to look for").toBeGreaterThan(20);
      expect(await page.content(), "the secret in the DOM").not.toContain(secret);

      const stored = await page.evaluate(() => {
        const dump = (s: Storage) =>
          Object.entries({ ...s })
            .flat()
            .join("\n");
        return [dump(localStorage), dump(sessionStorage), JSON.stringify(history.state ?? null), document.cookie].join("\n");
      });
      expect(stored, "the secret in web storage, history state or cookies").not.toContain(secret);
      const cookies = await page.context().cookies();
      expect(JSON.stringify(cookies), "the secret in a cookie").not.toContain(secret);

      const cache = await reactQueryCache(page);
      expect(cache, "TanStack Query's QueryClient, found through React").not.toBeNull();
      expect(cache, "the secret in TanStack Query's cache").not.toContain(secret);

      expect(
        urls.filter((u) => u.includes(secret)),
        "the secret in a URL",
      ).toEqual([]);
      expect(
        consoleLines.filter((l) => l.includes(secret)),
        "the secret in the console",
      ).toEqual([]);

      const bodies = await Promise.all(laterBodies);
      // Every /api body must be readable, or the check below proves nothing,
      // unless the page navigated after it arrived: then Chromium may drop
      // it, and no page holds it. (Next's RSC prefetches are sometimes
      // cancelled before they finish.)
      const apiBodies = bodies.filter((b) => new URL(b.url).pathname.startsWith("/api/"));
      expect(
        apiBodies.filter((b) => b.body === null && !b.navigatedSince).map((b) => b.url),
        "/api responses whose body could not be read while their page was still open",
      ).toEqual([]);
      expect(
        bodies.filter((b) => b.body?.includes(secret)).map((b) => b.url),
        "responses received after the modal closed that carry the secret",
      ).toEqual([]);
      return apiBodies.filter((b) => b.body !== null).length;
    },
  };
}

/**
 * A response's body, or null when there is none to read: redirects, and
 * documents replaced by a later navigation. (Chromium sometimes never answers
 * for those, hence the time limit.)
 */
async function readBody(res: Response): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), 5_000)));
  try {
    return await Promise.race([res.text(), timeout]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The dashboard's TanStack Query caches as JSON: every query's key and data,
 * every mutation's variables and result. Read from the QueryClientProvider's
 * props in React's fiber tree, so it sees exactly what the app holds in
 * memory. Null when the page has no QueryClient (that would be a test bug).
 */
export async function reactQueryCache(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    interface Client {
      getQueryCache(): { getAll(): Array<{ queryKey: unknown; state: { data: unknown; error: unknown } }> };
      getMutationCache(): { getAll(): Array<{ state: { data: unknown; variables: unknown } }> };
    }
    interface Fiber {
      return: Fiber | null;
      memoizedProps?: { client?: Partial<Client> } | null;
    }
    const host = document.querySelector("main");
    if (!host) return null;
    const fiberKey = Object.keys(host).find((k) => k.startsWith("__reactFiber$"));
    let fiber = fiberKey ? (host as unknown as Record<string, Fiber>)[fiberKey] : null;
    for (; fiber; fiber = fiber.return) {
      const client = fiber.memoizedProps?.client;
      if (typeof client?.getQueryCache === "function" && typeof client.getMutationCache === "function") {
        const c = client as Client;
        return JSON.stringify({
          queries: c
            .getQueryCache()
            .getAll()
            .map((q) => ({ key: q.queryKey, data: q.state.data, error: String(q.state.error) })),
          mutations: c
            .getMutationCache()
            .getAll()
            .map((m) => ({ variables: m.state.variables, data: m.state.data })),
        });
      }
    }
    return null;
  });
}
