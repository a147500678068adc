/**
 * Model artifacts (DESIGN §4): a directory with manifest.json plus binary payloads (.npy, .json).
 * Everything is written into a temp sibling directory and renamed into place, so a reader never
 * sees a half-written model and a failed save leaves the old one intact.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { RecallkitError } from "../errors.ts";
import { decodeNpy, encodeNpy, type NpyArray } from "./npy.ts";

export const ARTIFACT_VERSION = 1;

export interface Manifest {
  readonly type: string;
  readonly version: number;
  readonly params: Record<string, unknown>;
  readonly createdAt: string;
  readonly recallkit: string;
  /** Counts and anything else a loader checks (nUsers, nItems, data fingerprint, ...). */
  readonly meta: Record<string, unknown>;
  /** Payload file → description, so a reader can check nothing is missing. */
  readonly files: Record<string, { shape?: number[]; dtype?: string }>;
}

export type Payload = { npy: NpyArray; shape: number[] } | { json: unknown };

export async function writeArtifact(
  dir: string,
  head: { type: string; params: Record<string, unknown>; meta?: Record<string, unknown> },
  payloads: Record<string, Payload>,
  /** Writes more into the temp directory before the rename (a wrapped model's own artifact). */
  inside?: (tmp: string) => Promise<void>,
): Promise<void> {
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const files: Manifest["files"] = {};
    for (const [name, p] of Object.entries(payloads)) {
      if ("npy" in p) {
        await writeFile(join(tmp, name), encodeNpy(p.npy, p.shape));
        files[name] = { shape: p.shape, dtype: p.npy.constructor.name };
      } else {
        await writeFile(join(tmp, name), JSON.stringify(p.json));
        files[name] = {};
      }
    }
    const manifest: Manifest = {
      type: head.type,
      version: ARTIFACT_VERSION,
      params: head.params,
      createdAt: new Date().toISOString(),
      recallkit: "0.1.0",
      meta: head.meta ?? {},
      files,
    };
    if (inside !== undefined) await inside(tmp);
    await writeFile(join(tmp, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const old = `${tmp}.old`;
    let hadOld = false;
    try {
      await rename(dir, old);
      hadOld = true;
    } catch {
      // no previous artifact
    }
    await rename(tmp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

export interface LoadedArtifact {
  readonly dir: string;
  readonly manifest: Manifest;
  npy(name: string): Promise<{ data: NpyArray; shape: number[] }>;
  json<T = unknown>(name: string): Promise<T>;
}

/** Opens an artifact and checks its type; payloads are read lazily. */
export async function readArtifact(dir: string, expectedType?: string): Promise<LoadedArtifact> {
  const mpath = join(dir, "manifest.json");
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(mpath, "utf8")) as Manifest;
  } catch (err) {
    throw new RecallkitError(
      "RK_ERR_ARTIFACT",
      `${mpath}: cannot read the manifest (${(err as Error).message})`,
      {
        cause: err,
      },
    );
  }
  if (typeof manifest.type !== "string" || typeof manifest.files !== "object") {
    throw new RecallkitError("RK_ERR_ARTIFACT", `${mpath}: not a recallkit manifest (no type/files)`);
  }
  if (expectedType !== undefined && manifest.type !== expectedType) {
    throw new RecallkitError(
      "RK_ERR_ARTIFACT",
      `${mpath}: artifact is a "${manifest.type}", expected "${expectedType}"`,
    );
  }
  if (manifest.version > ARTIFACT_VERSION) {
    throw new RecallkitError(
      "RK_ERR_ARTIFACT",
      `${mpath}: version ${manifest.version} is newer than this recallkit reads`,
    );
  }
  const need = (name: string) => {
    if (!(name in manifest.files))
      throw new RecallkitError("RK_ERR_ARTIFACT", `${mpath}: no payload "${name}"`);
    return join(dir, name);
  };
  return {
    dir,
    manifest,
    async npy(name) {
      const p = need(name);
      return decodeNpy(await readFile(p), p);
    },
    async json<T>(name: string) {
      const p = need(name);
      return JSON.parse(await readFile(p, "utf8")) as T;
    },
  };
}

/** Writes a text file atomically (temp + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(tmp, data);
  await rename(tmp, path);
}
