/**
 * NumPy .npy v1.0 encoding for typed arrays, so NumPy/FAISS users can `np.load` our embeddings.
 * Supports little-endian float32, float64, int32 and uint8, C order.
 */
import { RecallkitError } from "../errors.ts";

export type NpyArray = Float32Array | Float64Array | Int32Array | Uint8Array;

const DESCR: Record<string, string> = {
  Float32Array: "<f4",
  Float64Array: "<f8",
  Int32Array: "<i4",
  Uint8Array: "|u1",
};

export function encodeNpy(data: NpyArray, shape: readonly number[]): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length)
    throw new RangeError(`encodeNpy: shape [${shape}] holds ${n} values, array has ${data.length}`);
  const descr = DESCR[data.constructor.name];
  if (descr === undefined) throw new TypeError(`encodeNpy: unsupported array type ${data.constructor.name}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Pad so that magic(6) + version(2) + len(2) + header ends on a 64-byte boundary, newline-terminated.
  const total = 10 + header.length + 1;
  header += `${" ".repeat((64 - (total % 64)) % 64)}\n`;
  const head = Buffer.alloc(10);
  head.write("\x93NUMPY", 0, "latin1");
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, "latin1"), body]);
}

export function decodeNpy(buf: Buffer, file = "<npy>"): { data: NpyArray; shape: number[] } {
  if (buf.length < 10 || buf.toString("latin1", 0, 6) !== "\x93NUMPY") {
    throw new RecallkitError("RK_ERR_ARTIFACT", `${file}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeStr === undefined || fortran !== "False") {
    throw new RecallkitError("RK_ERR_ARTIFACT", `${file}: unsupported .npy header ${header.trim()}`);
  }
  const shape = shapeStr
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const n = shape.reduce((a, b) => a * b, 1);
  const off = hstart + hlen;
  const bytes = buf.subarray(off);
  // Copy so the result is aligned and owns its memory.
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  let data: NpyArray;
  if (descr === "<f4") data = new Float32Array(copy.buffer, 0, n);
  else if (descr === "<f8") data = new Float64Array(copy.buffer, 0, n);
  else if (descr === "<i4") data = new Int32Array(copy.buffer, 0, n);
  else if (descr === "|u1") data = new Uint8Array(copy.buffer, 0, n);
  else throw new RecallkitError("RK_ERR_ARTIFACT", `${file}: unsupported dtype ${descr}`);
  if (data.byteLength > copy.byteLength)
    throw new RecallkitError("RK_ERR_ARTIFACT", `${file}: truncated payload`);
  return { data, shape };
}
