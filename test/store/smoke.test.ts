import { targets } from "../helpers/redis.js";
import { newStore } from "./helpers.js";

describe.each(targets)("smoke on $name", ({ connect }) => {
  it("put/get/search/list", async () => {
    const store = newStore(connect());
    await store.put(["a", "b"], "k1", { x: 1 });
    await store.put(["a"], "k2", { x: 2 });
    expect((await store.get(["a", "b"], "k1"))?.value).toEqual({ x: 1 });
    const found = await store.search(["a"]);
    expect(found.map((i) => i.key)).toEqual(["k1", "k2"]);
    expect(await store.listNamespaces()).toEqual([["a"], ["a", "b"]]);
    await store.delete(["a"], "k2");
    expect(await store.listNamespaces()).toEqual([["a", "b"]]);
    expect(await store.history(["a"], "k2")).toHaveLength(2);
  });
});
