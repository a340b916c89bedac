import { z } from "zod";

/**
 * The inference endpoints' request and answer shapes, for the OpenAPI
 * document only. The gateway (lib/gateway/, plain node:http) does not parse
 * with these: each protocol adapter checks what it needs (`invalid()`), and
 * every other field passes on to the upstream untouched, which is why every
 * request schema here is loose (`additionalProperties` allowed). They name
 * the fields a client most often sends and what Keygate does with them.
 */

const model = (what: string) =>
  z
    .string()
    .min(1)
    .meta({ description: `The public model name, one of \`GET /v1/models\`: ${what}. Sent upstream under the name its route gives it.` });

const stream = z.boolean().optional().meta({
  description:
    "`true` answers with server-sent events (`text/event-stream`), relayed event by event as the upstream sends them; the usage is still metered and charged when the stream ends, or when the client goes away (what was generated).",
});

const anyJson = z.looseObject({});

// ---------- OpenAI Chat Completions ----------

export const chatCompletionRequestSchema = z
  .looseObject({
    model: model("a chat model"),
    messages: z
      .array(z.looseObject({ role: z.string(), content: z.unknown().optional() }))
      .min(1)
      .meta({
        description: "The conversation, at least one message: `system`/`developer`, `user`, `assistant` and `tool` messages, with text or image parts.",
      }),
    max_completion_tokens: z.number().int().positive().optional().meta({
      description:
        "The output cap (or `max_tokens`, its older name). The reservation holds exactly this many output tokens, so it must fit the key's budget and balance whole (402 otherwise). Omitted: the model's `maxOutputTokens`, lowered to what the money and the tpm window allow, and the lowered cap is reported in `x-keygate-max-tokens`.",
    }),
    max_tokens: z.number().int().positive().optional().meta({ description: "The older name of `max_completion_tokens`; the same rules." }),
    stream,
    stream_options: z.looseObject({ include_usage: z.boolean().optional() }).optional().meta({
      description: "Keygate always asks the upstream for the stream's usage; the usage chunk reaches the client only when it set `include_usage: true` itself.",
    }),
    temperature: z.number().optional().meta({ description: "Passed on." }),
    tools: z.array(anyJson).optional().meta({ description: "Function tools, passed on." }),
    tool_choice: z.unknown().optional().meta({ description: "Passed on." }),
  })
  .meta({ id: "ChatCompletionRequest", description: "An OpenAI Chat Completions request. Fields not listed here are passed on to the upstream untouched." });

export const chatCompletionSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int(),
    model: z.string().meta({ description: "The public model name the client asked for (whatever the upstream calls it)." }),
    choices: z.array(
      z.looseObject({
        index: z.number().int(),
        message: z.looseObject({ role: z.literal("assistant"), content: z.string().nullable() }),
        finish_reason: z.string().nullable(),
      }),
    ),
    usage: z
      .looseObject({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() })
      .meta({ description: "The upstream's counts: what the request is charged for (each bounded by what the request could have used)." }),
  })
  .meta({ id: "ChatCompletion", description: "An OpenAI Chat Completions answer, as the upstream sent it, under the public model name." });

// ---------- Anthropic Messages ----------

export const messagesRequestSchema = z
  .looseObject({
    model: model("a chat model"),
    messages: z
      .array(z.looseObject({ role: z.string(), content: z.unknown() }))
      .min(1)
      .meta({ description: "The conversation, at least one message (`user` / `assistant`, text, image, `tool_use` and `tool_result` blocks)." }),
    max_tokens: z.number().int().positive().optional().meta({
      description:
        "The output cap, held whole by the reservation (402 when it cannot be paid for). Anthropic requires it; Keygate fills in the model's `maxOutputTokens` (lowered to what the money and the tpm window allow) when it is omitted.",
    }),
    system: z.unknown().optional().meta({ description: "The system prompt (a string or text blocks), passed on." }),
    stream,
    tools: z.array(anyJson).optional().meta({ description: "Tools, passed on." }),
    thinking: anyJson
      .optional()
      .meta({ description: "Extended thinking, passed on (signatures intact: the body is not re-encoded on a same-protocol route)." }),
  })
  .meta({
    id: "MessagesRequest",
    description: "An Anthropic Messages request. Fields not listed here, and `anthropic-version` / `anthropic-beta` headers, are passed on untouched.",
  });

export const messageSchema = z
  .looseObject({
    id: z.string(),
    type: z.literal("message"),
    role: z.literal("assistant"),
    model: z.string().meta({ description: "The public model name the client asked for." }),
    content: z.array(anyJson),
    stop_reason: z.string().nullable(),
    usage: z
      .looseObject({ input_tokens: z.number().int(), output_tokens: z.number().int() })
      .meta({ description: "The upstream's counts: what the request is charged for." }),
  })
  .meta({ id: "Message", description: "An Anthropic Messages answer, as the upstream sent it, under the public model name." });

// ---------- OpenAI Responses ----------

export const responsesRequestSchema = z
  .looseObject({
    model: model("a chat model"),
    input: z.union([z.string(), z.array(anyJson)]).meta({
      description:
        "A string, or items: messages (`user`, `assistant`, `system`, `developer`), `function_call` and `function_call_output` items, with their `id` / `status`.",
    }),
    instructions: z.string().optional().meta({ description: "The system prompt." }),
    tools: z.array(anyJson).optional().meta({
      description:
        "Function tools. Built-in tools Keygate cannot run (`web_search`, `file_search`, `code_interpreter`, `computer_use`, …) are dropped and listed in `x-keygate-dropped-params`.",
    }),
    tool_choice: z.unknown().optional().meta({ description: "Passed on; one that forces a dropped built-in tool gets 400 `unsupported_parameter`." }),
    max_output_tokens: z
      .number()
      .int()
      .positive()
      .optional()
      .meta({ description: "The output cap, with the same rules as Chat Completions' `max_completion_tokens`." }),
    temperature: z.number().optional().meta({ description: "Passed on." }),
    text: z.looseObject({ format: z.unknown().optional() }).optional().meta({ description: "`text.format`: plain text or a JSON schema." }),
    stream: z.boolean().optional().meta({ description: "`true` answers with the `response.*` event sequence, ending in `response.completed` with usage." }),
    store: z.boolean().optional().meta({ description: "Accepted and ignored: nothing is stored (listed as dropped when `true`)." }),
    previous_response_id: z
      .string()
      .optional()
      .meta({ description: "Refused with 400 `unsupported_parameter`: Keygate keeps no responses; send the whole conversation in `input`." }),
  })
  .meta({ id: "ResponsesRequest", description: "An OpenAI Responses API request, served statelessly. Other fields are passed on or dropped and listed." });

export const responseObjectSchema = z
  .looseObject({
    id: z.string(),
    object: z.literal("response"),
    created_at: z.number().int(),
    model: z.string().meta({ description: "The public model name the client asked for." }),
    status: z.string(),
    output: z.array(anyJson).meta({ description: "`message` and `function_call` items." }),
    usage: z
      .looseObject({ input_tokens: z.number().int(), output_tokens: z.number().int(), total_tokens: z.number().int() })
      .meta({ description: "What the request is charged for." }),
  })
  .meta({ id: "Response", description: "An OpenAI Responses API answer (never stored)." });

// ---------- OpenAI Embeddings ----------

export const embeddingsRequestSchema = z
  .looseObject({
    model: model('an embedding model (`kind: "embedding"` in the catalogue)'),
    input: z
      .union([
        z.string().min(1),
        z.array(z.string().min(1)).min(1).max(2048),
        z.array(z.number().int().min(0)).min(1),
        z
          .array(z.array(z.number().int().min(0)).min(1))
          .min(1)
          .max(2048),
      ])
      .meta({
        description:
          "The text to embed: a string, an array of strings, an array of token ids, or an array of token-id arrays (up to 2,048 inputs); nothing empty.",
      }),
    encoding_format: z.enum(["float", "base64"]).optional().meta({
      description: "`float` (default) or `base64` (little-endian float32s, what the official `openai` SDK asks for by default and decodes). Passed on.",
    }),
    dimensions: z.number().int().positive().optional().meta({ description: "The vectors' length, for models that support it. Passed on." }),
    user: z.string().optional().meta({ description: "Passed on." }),
  })
  .meta({
    id: "EmbeddingsRequest",
    description: "An OpenAI Embeddings request. There is no streaming (`stream: true` gets 400). Other fields are passed on.",
  });

export const embeddingsSchema = z
  .looseObject({
    object: z.literal("list"),
    data: z.array(
      z.looseObject({
        object: z.literal("embedding"),
        index: z.number().int(),
        embedding: z
          .union([z.array(z.number()), z.string()])
          .meta({ description: 'The vector: numbers, or a base64 string with `encoding_format: "base64"`.' }),
      }),
    ),
    model: z.string().meta({ description: "The public model name the client asked for." }),
    usage: z
      .looseObject({ prompt_tokens: z.number().int(), total_tokens: z.number().int() })
      .meta({ description: "`prompt_tokens` is what the request is charged for, at the model's input price; nothing is charged for output." }),
  })
  .meta({ id: "Embeddings", description: "An OpenAI Embeddings answer, as the upstream sent it, under the public model name." });

// ---------- GET /v1/models ----------

export const modelListSchema = z
  .strictObject({
    object: z.literal("list"),
    data: z.array(
      z.strictObject({
        id: z.string().meta({ description: "The public model name." }),
        object: z.literal("model"),
        created: z.number().int(),
        owned_by: z.string().meta({ description: "The model's provider: `openai`, `anthropic`, or `keygate` for the built-in demo models." }),
      }),
    ),
  })
  .meta({ id: "ModelList", description: "Every active model, chat and embedding alike, in OpenAI's list shape." });

// ---------- errors ----------

export const openAIErrorSchema = z
  .looseObject({
    error: z.looseObject({
      message: z.string().meta({ description: "A sentence for people that says what to do next." }),
      type: z.string().meta({ description: "OpenAI's error type, e.g. `invalid_request_error`, `insufficient_quota`, `rate_limit_error`." }),
      param: z.string().nullable().optional(),
      code: z
        .string()
        .nullable()
        .meta({ description: "Keygate's reason, e.g. `invalid_api_key`, `budget_exceeded` (or the upstream's own code on an error passed on)." }),
    }),
  })
  .meta({
    id: "OpenAIError",
    description: "An error in OpenAI's shape, which the `openai` SDKs read. An upstream's own error in this shape is passed on as sent.",
  });

export const anthropicErrorSchema = z
  .looseObject({
    type: z.literal("error"),
    error: z.looseObject({
      type: z.string().meta({ description: "Anthropic's error type, e.g. `authentication_error`, `billing_error`, `rate_limit_error`." }),
      message: z.string().meta({ description: "A sentence for people that says what to do next, naming Keygate's reason." }),
    }),
  })
  .meta({
    id: "AnthropicError",
    description: "An error in Anthropic's shape, which `@anthropic-ai/sdk` reads. An upstream's own error in this shape is passed on as sent.",
  });
