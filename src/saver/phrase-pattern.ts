/**
 * A global regular expression matching any of `phrases` literally, longest first, so that one replace pass takes the
 * longest phrase starting at each position. Shared by the record tokens and the message tokens, the two dictionaries
 * of fixed JSON text the saver stores as codes.
 */
export function longestFirstPattern(phrases: readonly string[]): RegExp {
  return new RegExp(
    [...phrases]
      .sort((a, b) => b.length - a.length)
      .map((phrase) => phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
      .join("|"),
    "g",
  );
}
