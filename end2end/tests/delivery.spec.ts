// The browser bundle is sent pre-compressed (built by `cargo leptos build --release
// --precompress`): brotli to a browser that accepts it, gzip to one that accepts only
// gzip, the raw file to one that accepts neither. The sizes are benchmark 5's business
// (bench/RESULTS.md); this checks what is sent.
import { test, expect } from "@playwright/test";

for (const file of ["school-portal.wasm", "school-portal.js", "school-portal.css"]) {
  test(`/pkg/${file} is sent pre-compressed`, async ({ request }, info) => {
    test.skip(info.project.name !== "js", "one run is enough: no page involved");
    const get = (encoding: string) =>
      request.get(`/pkg/${file}`, { headers: { "accept-encoding": encoding } });
    const raw = await get("identity");
    expect(raw.status()).toBe(200);
    expect(raw.headers()["content-encoding"]).toBeUndefined();
    const rawLength = Number(raw.headers()["content-length"]);
    expect(rawLength).toBeGreaterThan(0);

    const br = await get("br, gzip");
    expect(br.headers()["content-encoding"]).toBe("br");
    const gz = await get("gzip");
    expect(gz.headers()["content-encoding"]).toBe("gzip");
    const brLength = Number(br.headers()["content-length"]);
    const gzLength = Number(gz.headers()["content-length"]);
    expect(brLength).toBeGreaterThan(0);
    expect(brLength).toBeLessThan(gzLength);
    expect(gzLength).toBeLessThan(rawLength);
    // The same bytes once decoded (Playwright decodes the body).
    expect((await br.body()).equals(await raw.body())).toBe(true);
  });
}
