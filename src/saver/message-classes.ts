/**
 * The LangChain message classes the saver's JSON fast paths handle themselves (json-revive builds them, json-dump
 * writes them), by the name load() looks up in the `langchain_core/messages` namespace (@langchain/core's import
 * map sends that namespace to this same module). The abstract bases (BaseMessage, BaseMessageChunk) are left to
 * LangChain.
 */
import * as messages from "@langchain/core/messages";

export type MessageClass = new (fields: Record<string, unknown>) => object;

const NAMES = [
  "AIMessage",
  "AIMessageChunk",
  "ChatMessage",
  "ChatMessageChunk",
  "FunctionMessage",
  "FunctionMessageChunk",
  "HumanMessage",
  "HumanMessageChunk",
  "RemoveMessage",
  "SystemMessage",
  "SystemMessageChunk",
  "ToolMessage",
  "ToolMessageChunk",
] as const;

export const MESSAGE_CLASSES: Readonly<Record<string, MessageClass>> = Object.fromEntries(
  // biome-ignore lint/performance/noDynamicNamespaceImportAccess: one list of names, as load() looks classes up; the module is loaded whole by @langchain/core anyway
  NAMES.map((name) => [name, messages[name] as unknown as MessageClass]),
);
