import { debuglog } from "node:util";

/**
 * Namespaced debug logger; silent unless NODE_DEBUG includes `langgraph-redis`. The library never writes to the
 * console otherwise, and never logs stored values or credentials: log ids and sizes only.
 */
export const log = debuglog("langgraph-redis");
