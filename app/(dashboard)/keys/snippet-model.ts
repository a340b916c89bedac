import { activeModels, DEMO_MODEL, servedOn } from "@/lib/models/catalogue";

/**
 * The model a key's snippets call on /v1/chat/completions (a new key's, a
 * rotated key's): the first active one served there (the built-in demo comes
 * first when it is on; an Anthropic model would answer 404 on that path).
 * The snippet is a convenience: a catalogue that cannot be read must not
 * break the page.
 */
export async function snippetModel(): Promise<string> {
  try {
    const models = await activeModels();
    return models.find((m) => m.kind === "chat" && servedOn(m, "openai"))?.model ?? DEMO_MODEL.model;
  } catch (err) {
    console.error("keys page: could not read the model catalogue for the snippets", err);
    return DEMO_MODEL.model;
  }
}
