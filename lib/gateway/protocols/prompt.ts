import type { Json } from "@/lib/gateway/protocols/adapter";

/**
 * How many tokens a request's prompt may hold, two ways: a safe upper bound
 * (what money is reserved for) and an estimate (what the tpm window holds
 * until the real count is known). Chat Completions and Anthropic carry the
 * prompt in `messages` (and Anthropic in `system`), the Responses API in
 * `input` and `instructions`, with images as typed parts; embeddings in
 * `input` (text, or token ids).
 */

/** Images are priced per image, not per byte of their URL or data: count this many tokens for each. */
const TOKENS_PER_IMAGE = 2_000;
/**
 * A request with tools is billed for a system prompt the provider adds and
 * the body does not hold (Anthropic's tool-use prompt is 313 to 346 tokens,
 * more with some tool types): the bound allows this many more.
 */
const TOOL_USE_ALLOWANCE = 1_000;
const IMAGE_TYPES = new Set(["image_url", "image", "input_image", "document"]);

/** A rough count when no tokenizer is at hand: about four bytes a token. */
export function estimateTokens(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4));
}

export interface PromptSize {
  /**
   * An upper bound on the prompt's tokens. A token is at least one UTF-8
   * byte of text, and the request body holds every byte of the prompt plus
   * its JSON framing (which more than covers the few tokens per message that
   * chat formats add, and tool schemas), so the body's length bounds the
   * text; images add a fixed allowance each.
   */
  bound: number;
  /** An estimate: the text of messages, system prompt and tools at about four bytes a token, plus each image's allowance. */
  estimate: number;
}

export function promptSize(bodyBytes: number, body: Json): PromptSize {
  let images = 0;
  let textBytes = 0;
  const visit = (value: unknown, field: string) => {
    if (typeof value === "string") {
      // Inline image data and URLs are counted by the image, not by their bytes.
      if (field !== "url" && field !== "data") textBytes += Buffer.byteLength(value);
    } else if (typeof value === "number" && field === "input") {
      // A token id in an embeddings input: one token (the estimate counts four bytes a token).
      textBytes += 4;
    } else if (Array.isArray(value)) {
      for (const v of value) visit(v, field);
    } else if (value && typeof value === "object") {
      if (IMAGE_TYPES.has((value as Json).type as string)) images++;
      else for (const [k, v] of Object.entries(value as Json)) if (k !== "type" && k !== "role") visit(v, k);
    }
  };
  visit(body.messages, "messages");
  visit(body.system, "system");
  visit(body.input, "input");
  visit(body.instructions, "instructions");
  visit(body.tools, "tools");
  const allowance = images * TOKENS_PER_IMAGE + (Array.isArray(body.tools) && body.tools.length > 0 ? TOOL_USE_ALLOWANCE : 0);
  return { bound: bodyBytes + allowance, estimate: estimateTokens(textBytes) + allowance };
}
