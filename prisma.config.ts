import path from "node:path";
import { defineConfig } from "prisma/config";

// The CLI must be able to read the schema's datasource, or it silently falls
// back to downloading a Rust engine (which fails offline). Without a real
// DATABASE_URL the CLI works on a throwaway in-memory PGlite instead, which is
// all `generate` and `migrate diff` need.
const realUrl = process.env.DATABASE_URL;
process.env.DATABASE_URL ??= "postgresql://unused@127.0.0.1:5432/unused";

export default defineConfig({
  schema: path.join("prisma", "schema.prisma"),
  engine: "js",
  experimental: { adapter: true },
  async adapter() {
    if (!realUrl) {
      const { PGlite } = await import("@electric-sql/pglite");
      const { PrismaPGlite } = await import("pglite-prisma-adapter");
      return new PrismaPGlite(new PGlite()) as never;
    }
    const { PrismaPg } = await import("@prisma/adapter-pg");
    // adapter-pg 7.x handles the `name` column type that migrate needs; its
    // types trail the 6.19 CLI's, hence the cast.
    return new PrismaPg({ connectionString: realUrl }) as never;
  },
});
