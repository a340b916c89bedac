// Runs once when the server starts, before it takes requests.
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { boot } = await import("./lib/boot");
  try {
    await boot();
  } catch (err) {
    console.error(`[keygate] cannot start: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
