// check.mjs reads a GGUF file with @huggingface/gguf, a reader written
// independently of runtime/gguf, and prints what it found as JSON for
// TestAgainstHuggingFaceReader to compare: a JSON array with one object
// for each file (one process for all of them, as starting Node and
// loading the package takes about a second).
//
//	node check.mjs FILE...
//
// JSON cannot hold what JavaScript reads without loss, so every scalar is
// tagged with the JavaScript type it arrived as and carried as text:
//
//	{"bigint": "18446744073709551615"}  64-bit integers (BigInt)
//	{"number": "-0"}                    other numbers, via String(), except
//	                                    that -0 keeps its sign; NaN and
//	                                    Infinity stay readable as text
//	{"bool": true}, {"string": "..."}, {"array": [...]}
import { readFileSync } from "node:fs";
import { gguf } from "@huggingface/gguf";

const paths = process.argv.slice(2);
if (paths.length === 0) {
	console.error("usage: node check.mjs FILE...");
	process.exit(2);
}

function tag(v) {
	switch (typeof v) {
		case "bigint":
			return { bigint: v.toString() };
		case "number":
			return { number: Object.is(v, -0) ? "-0" : String(v) };
		case "boolean":
			return { bool: v };
		case "string":
			return { string: v };
	}
	if (Array.isArray(v)) {
		return { array: v.map(tag) };
	}
	throw new Error(`unexpected ${typeof v} in metadata`);
}

// The parser adds the header's version and counts to the metadata under
// these names; they are not keys of the file.
const pseudo = new Set(["version", "tensor_count", "kv_count"]);

const pkg = JSON.parse(readFileSync(new URL("./node_modules/@huggingface/gguf/package.json", import.meta.url)));

async function check(path) {
	const { metadata, typedMetadata, tensorInfos, tensorDataOffset, littleEndian } = await gguf(path, {
		allowLocalFile: true,
		typedMetadata: true,
	});
	return {
		reader: `${pkg.name}@${pkg.version}`,
		version: metadata.version,
		tensorCount: metadata.tensor_count.toString(),
		kvCount: metadata.kv_count.toString(),
		littleEndian,
		tensorDataOffset: tensorDataOffset.toString(),
		// Object keys keep insertion order, which is file order, for keys
		// that do not look like array indexes; GGUF keys never do.
		kv: Object.entries(typedMetadata)
			.filter(([key]) => !pseudo.has(key))
			.map(([key, t]) => ({ key, type: t.type, subType: t.subType ?? null, value: tag(t.value) })),
		tensors: tensorInfos.map((t) => ({
			name: t.name,
			nDims: t.n_dims,
			shape: t.shape.map((d) => d.toString()),
			dtype: t.dtype,
			offset: t.offset.toString(),
		})),
	};
}

const out = [];
for (const path of paths) {
	out.push(await check(path));
}
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
