/** @type {import('next').NextConfig} */
const nextConfig = {
  // These load WebAssembly, native addons or open sockets; bundling them breaks
  // that, so the server requires them from node_modules at run time.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/adapter-pg",
    "@prisma/client",
    "pg",
    "@node-rs/argon2",
    "ioredis",
    "prom-client",
  ],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
