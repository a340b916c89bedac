import type { Metadata } from "next";
import { requireUser } from "@/app/(dashboard)/require-user";
import { browsingOrigin } from "@/app/(dashboard)/browsing-origin";
import { PoolsPage } from "@/components/pools/pools-page";
import { activeModels, DEMO_MODEL, servedOn } from "@/lib/models/catalogue";

export const metadata: Metadata = { title: "Pools" };

export default async function Page() {
  await requireUser("/pools");
  const [origin, chatModels] = await Promise.all([browsingOrigin(), chatCompletionModels()]);
  return <PoolsPage origin={origin} chatModels={chatModels} />;
}

/**
 * The models a new subscription key's snippets may call on
 * /v1/chat/completions (an Anthropic model answers there with 404). The
 * snippets are a convenience: a catalogue that cannot be read must not
 * break the page, and without them the key is still shown.
 */
async function chatCompletionModels(): Promise<string[]> {
  try {
    const models = await activeModels();
    return models.filter((m) => m.kind === "chat" && servedOn(m, "openai")).map((m) => m.model);
  } catch (err) {
    console.error("pools page: could not read the model catalogue for the snippets", err);
    return [DEMO_MODEL.model];
  }
}
