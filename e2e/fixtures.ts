import crypto from "node:crypto";
import path from "node:path";
import { test as base, expect, type APIRequestContext, type APIResponse, type Page, type TestInfo } from "@playwright/test";
import { E2E_ADMIN_API_TOKEN, E2E_OPERATOR_EMAIL, E2E_OPERATOR_PASSWORD } from "./test-env";

/**
 * Fixtures in the style of cal.com's e2e/fixtures.ts: every test gets its own
 * users, created and logged in through the API. Only the tests of the sign-in
 * and sign-up forms go through the forms.
 */

export const SESSION_COOKIE = "next-auth.session-token";

export interface KeygateUser {
  id: string;
  email: string;
  name: string | null;
  password: string;
  /** The session JWT from POST /api/auth/token, the same one NextAuth keeps in its cookie. */
  token: string;
  /** Logs `page` (by default the test's page) in by setting the session cookie. */
  login(page?: Page): Promise<void>;
}

export interface CreateUserOptions {
  name?: string;
  password?: string;
  /** Credit granted through the admin API, in USD. */
  creditUsd?: number;
}

export interface UsersFixture {
  create(options?: CreateUserOptions): Promise<KeygateUser>;
  /**
   * The e2e server's operator (its email is in KEYGATE_ADMIN_EMAILS): signed
   * up by the first test that asks (or by a retry's first attempt), signed in
   * by every other. Shared by the tests that use it: give it no credit and
   * assert nothing about its own keys.
   */
  operator(): Promise<KeygateUser>;
  /** An email no user has, for the sign-up form. */
  freshEmail(): string;
  /** A password that passes the sign-up rules. */
  freshPassword(): string;
}

export interface AuthedApi {
  get(url: string): Promise<APIResponse>;
  post(url: string, data?: unknown): Promise<APIResponse>;
  patch(url: string, data?: unknown): Promise<APIResponse>;
  put(url: string, data?: unknown): Promise<APIResponse>;
  delete(url: string): Promise<APIResponse>;
}

export interface ApiFixture {
  /** Requests sent with `Authorization: Bearer <user.token>`. */
  as(user: Pick<KeygateUser, "token">): AuthedApi;
}

interface Account {
  id: string;
  email: string;
  name: string | null;
}

interface Fixtures {
  users: UsersFixture;
  api: ApiFixture;
  /** Saves a full-page screenshot to e2e/.artifacts/<test>--<name>.png for reviewers. */
  saveScreenshot(name: string, page?: Page): Promise<void>;
}

// The fixture callback is named `provide`, not Playwright's usual `use`: the
// React lint rules would take `use(...)` for React's hook.
export const test = base.extend<Fixtures>({
  users: async ({ page, request, baseURL }, provide, testInfo) => {
    let seq = 0;
    const freshEmail = () => `e2e-${testInfo.workerIndex}-${Date.now().toString(36)}-${seq++}-${crypto.randomBytes(4).toString("hex")}@example.com`;
    const freshPassword = () => `pw-${crypto.randomBytes(9).toString("base64url")}`;

    async function create(options: CreateUserOptions = {}): Promise<KeygateUser> {
      const email = freshEmail();
      const password = options.password ?? freshPassword();
      const signup = await request.post("/api/auth/signup", {
        data: { email, password, ...(options.name ? { name: options.name } : {}) },
      });
      await expectStatus(signup, 201, "POST /api/auth/signup");
      const { data: created } = (await signup.json()) as { data: Account };

      if (options.creditUsd) {
        const grant = await request.post("/api/admin/credits", {
          headers: { Authorization: `Bearer ${E2E_ADMIN_API_TOKEN}` },
          data: { email, amountUsd: options.creditUsd, note: "e2e" },
        });
        await expectStatus(grant, 201, "POST /api/admin/credits");
      }
      return signIn(email, password, created);
    }

    async function operator(): Promise<KeygateUser> {
      const signup = await request.post("/api/auth/signup", { data: { email: E2E_OPERATOR_EMAIL, password: E2E_OPERATOR_PASSWORD, name: "E2E operator" } });
      // 409: another test (or this test's earlier attempt) signed it up already.
      if (signup.status() !== 409) await expectStatus(signup, 201, "POST /api/auth/signup (operator)");
      return signIn(E2E_OPERATOR_EMAIL, E2E_OPERATOR_PASSWORD, signup.status() === 201 ? ((await signup.json()) as { data: Account }).data : null);
    }

    /** A session for this user; `known` is the account when the caller has it already (else it is read back). */
    async function signIn(email: string, password: string, known: Account | null): Promise<KeygateUser> {
      const tokenRes = await request.post("/api/auth/token", { data: { email, password } });
      await expectStatus(tokenRes, 200, "POST /api/auth/token");
      const { data: session } = (await tokenRes.json()) as { data: { token: string } };
      let me = known;
      if (!me) {
        const account = await request.get("/api/account", { headers: { Authorization: `Bearer ${session.token}` } });
        await expectStatus(account, 200, "GET /api/account");
        me = ((await account.json()) as { data: Account }).data;
      }

      return {
        id: me.id,
        email: me.email,
        name: me.name,
        password,
        token: session.token,
        async login(target = page) {
          const url = new URL(baseURL!);
          await target.context().addCookies([{ name: SESSION_COOKIE, value: session.token, domain: url.hostname, path: "/", httpOnly: true, sameSite: "Lax" }]);
        },
      };
    }

    await provide({ create, operator, freshEmail, freshPassword });
    // Nothing to delete: each run has its own database, thrown away afterwards.
  },

  api: async ({ request }, provide) => {
    await provide({ as: (user) => bearerApi(request, user.token) });
  },

  saveScreenshot: async ({ page }, provide, testInfo) => {
    await provide(async (name, target = page) => {
      await target.screenshot({ path: artifactPath(testInfo, name), fullPage: true });
    });
  },
});

export { expect };

function bearerApi(request: APIRequestContext, token: string): AuthedApi {
  const headers = { Authorization: `Bearer ${token}` };
  return {
    get: (url) => request.get(url, { headers }),
    post: (url, data) => request.post(url, { headers, data }),
    patch: (url, data) => request.patch(url, { headers, data }),
    put: (url, data) => request.put(url, { headers, data }),
    delete: (url) => request.delete(url, { headers }),
  };
}

async function expectStatus(res: APIResponse, status: number, what: string): Promise<void> {
  if (res.status() !== status) {
    throw new Error(`${what} answered ${res.status()}, expected ${status}: ${await res.text()}`);
  }
}

function artifactPath(testInfo: TestInfo, name: string): string {
  const slug = (s: string) =>
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .slice(0, 60)
      .replace(/^-+|-+$/g, "");
  return path.join(testInfo.project.testDir, ".artifacts", `${slug(testInfo.title)}--${slug(name)}.png`);
}
