import assert from "node:assert/strict";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readArtifact, writeArtifact } from "./artifact.ts";
import { decodeNpy, encodeNpy } from "./npy.ts";

test(".npy round trip and NumPy's header layout", () => {
  const x = Float32Array.from([1, 2.5, -3, 4, 5, 6]);
  const buf = encodeNpy(x, [2, 3]);
  assert.equal((buf.readUInt16LE(8) + 10) % 64, 0);
  assert.match(buf.toString("latin1", 10, 80), /'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\)/);
  const back = decodeNpy(buf);
  assert.deepEqual(back.shape, [2, 3]);
  assert.deepEqual(Array.from(back.data), Array.from(x));
  assert.throws(() => decodeNpy(Buffer.from("nope")), /bad magic/);
});

test("artifacts are written atomically and verified on read", async () => {
  const root = await mkdtemp(join(tmpdir(), "rk-art-"));
  const dir = join(root, "model");
  await writeArtifact(
    dir,
    { type: "demo", params: { k: 1 } },
    {
      "v.npy": { npy: Int32Array.from([1, 2, 3]), shape: [3] },
      "m.json": { json: { a: 1 } },
    },
  );
  const a = await readArtifact(dir, "demo");
  assert.deepEqual(Array.from((await a.npy("v.npy")).data), [1, 2, 3]);
  assert.deepEqual(await a.json("m.json"), { a: 1 });
  await assert.rejects(readArtifact(dir, "other"), /is a "demo", expected "other"/);
  await assert.rejects(a.npy("missing.npy"), /no payload "missing.npy"/);
  // Overwrite in place: only the final directory remains, no temp leftovers.
  await writeArtifact(dir, { type: "demo", params: { k: 2 } }, { "m.json": { json: 2 } });
  assert.deepEqual(await readdir(root), ["model"]);
  assert.equal((await readArtifact(dir)).manifest.params.k, 2);
  await writeFile(join(dir, "manifest.json"), "{");
  await assert.rejects(readArtifact(dir), /cannot read the manifest/);
});
