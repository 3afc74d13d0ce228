/**
 * The LangChain message classes the saver's JSON fast paths handle themselves (json-revive builds them, json-dump
 * writes them), by the name load() looks up in the `langchain_core/messages` namespace (@langchain/core's import
 * map sends that namespace to this same module). The abstract bases (BaseMessage, BaseMessageChunk) are left to
 * LangChain.
 */
import {
  AIMessage,
  AIMessageChunk,
  ChatMessage,
  ChatMessageChunk,
  FunctionMessage,
  FunctionMessageChunk,
  HumanMessage,
  HumanMessageChunk,
  RemoveMessage,
  SystemMessage,
  SystemMessageChunk,
  ToolMessage,
  ToolMessageChunk,
} from "@langchain/core/messages";

export type MessageClass = new (fields: Record<string, unknown>) => object;

/** Keyed by the name load() looks each class up by. */
export const MESSAGE_CLASSES: Readonly<Record<string, MessageClass>> = {
  AIMessage,
  AIMessageChunk,
  ChatMessage,
  ChatMessageChunk,
  FunctionMessage,
  FunctionMessageChunk,
  HumanMessage,
  HumanMessageChunk,
  RemoveMessage,
  SystemMessage,
  SystemMessageChunk,
  ToolMessage,
  ToolMessageChunk,
} as unknown as Readonly<Record<string, MessageClass>>;
