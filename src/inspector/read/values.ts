/**
 * Channel values made readable: LangChain messages become { role, content, ... } and render as a transcript;
 * everything else becomes plain JSON (Maps, Sets, Dates, bytes and class instances included).
 */

export interface PlainMessage {
  readonly role: string;
  readonly content: unknown;
  readonly name?: string;
  readonly id?: string;
  readonly toolCalls?: readonly { name: string; args: unknown; id?: string }[];
  readonly toolCallId?: string;
}

interface MessageLike {
  getType?: () => string;
  _getType?: () => string;
  content: unknown;
  name?: string;
  id?: string;
  tool_calls?: { name: string; args: unknown; id?: string }[];
  tool_call_id?: string;
}

export function isMessage(value: unknown): value is MessageLike {
  if (typeof value !== "object" || value === null || !("content" in value)) return false;
  const v = value as MessageLike;
  return typeof v.getType === "function" || typeof v._getType === "function";
}

export function isMessageList(value: unknown): value is MessageLike[] {
  return Array.isArray(value) && value.length > 0 && value.every(isMessage);
}

export function plainMessage(message: MessageLike): PlainMessage {
  const role = (message.getType ?? message._getType)?.call(message) ?? "message";
  return {
    role,
    content: toPlain(message.content),
    ...(message.name ? { name: message.name } : {}),
    ...(message.id ? { id: message.id } : {}),
    ...(message.tool_calls && message.tool_calls.length > 0
      ? {
          toolCalls: message.tool_calls.map((c) => ({
            name: c.name,
            args: toPlain(c.args),
            ...(c.id ? { id: c.id } : {}),
          })),
        }
      : {}),
    ...(message.tool_call_id ? { toolCallId: message.tool_call_id } : {}),
  };
}

export function toPlain(value: unknown, depth = 0): unknown {
  if (depth > 50) return "[nested too deep]";
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === "bigint") return String(value);
  if (typeof value !== "object") return typeof value === "function" ? "[function]" : value;
  if (isMessage(value)) return plainMessage(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v, depth + 1)]));
  if (value instanceof Set) return [...value].map((v) => toPlain(v, depth + 1));
  if (Array.isArray(value)) return value.map((v) => toPlain(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = toPlain(v, depth + 1);
  return out;
}

function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === "object" && part !== null && "text" in part ? String(part.text) : JSON.stringify(part),
      )
      .join(" ");
  }
  return JSON.stringify(content);
}

/** "human: hello" lines, tool calls as "ai -> tool(args)". */
export function transcript(messages: readonly PlainMessage[]): string {
  return messages
    .flatMap((m) => {
      const who = m.name ? `${m.role} (${m.name})` : m.role;
      const lines: string[] = [];
      const text = contentText(m.content);
      if (text !== "") lines.push(`${who}: ${text}`);
      for (const call of m.toolCalls ?? []) lines.push(`${who} -> ${call.name}(${JSON.stringify(call.args)})`);
      if (lines.length === 0) lines.push(`${who}: (empty)`);
      return lines;
    })
    .join("\n");
}
