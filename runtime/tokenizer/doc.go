// Package tokenizer turns text into token ids and back for the two
// tokenizers llama.cpp builds from a GGUF file's tokenizer.ggml.*
// metadata: SentencePiece ("llama") and byte-level BPE ("gpt2"). It
// follows llama.cpp's src/llama-vocab.cpp (llm_tokenizer_spm,
// llm_tokenizer_bpe) and src/unicode.cpp, so that a prompt gives the same
// ids here as there: a receipt names ids, and an auditor re-running a
// request must feed the model exactly what the provider fed it.
//
// Everything is deterministic: no map is ever iterated where order could
// matter, every priority queue breaks ties by position, and a Tokenizer
// is immutable after New, so it is safe for concurrent use.
//
// # Special tokens
//
// Encode first cuts the text at every verbatim occurrence of a control,
// user-defined or unknown token's text (llama.cpp's parse_special=true):
// the tokens are tried longest first (ties: lower id), and each one
// splits every remaining text fragment at its non-overlapping
// occurrences from left to right. The fragments between them are
// tokenized by the model's algorithm. EncodeText does the same without
// matching control and unknown tokens (parse_special=false), for text
// that must not be able to spell a control token.
//
// # SentencePiece ("llama")
//
// Each text fragment is prefixed with a space when AddSpacePrefix is set
// and the fragment is the first one or follows a special token (this is
// what llama.cpp does: after "<s>" the next text gets a space too); then
// every ASCII space becomes ▁ (U+2581). The fragment is cut into
// symbols of one UTF-8 character each, where a character's length comes
// from its first byte alone (as llama.cpp does; an invalid sequence is
// not checked). Then, repeatedly, the adjacent pair whose concatenation
// is a token with the highest score is merged (ties: the leftmost), with
// a priority queue. A symbol that ends up not being a token becomes its
// bytes as <0xXX> tokens (or, failing that, one-byte tokens), and when a
// byte has neither, the whole symbol becomes one UNK token.
//
// Decode drops the space the prefix added: one leading space of the
// first token that produces any bytes, when AddSpacePrefix is set.
// So for valid UTF-8 text s with no special-token text in it, a
// vocabulary whose byte tokens are all present and that has a "▁" token
// gives Decode(Encode(s, false)) == strings.ReplaceAll(s, "▁", " "):
// a literal ▁ in the input cannot be told from an escaped space.
//
// # Byte-level BPE ("gpt2")
//
// Each text fragment is split by the pre-tokenizer named by Vocab.Pre,
// each piece's bytes are mapped through GPT-2's bytes_to_unicode table,
// and the piece is cut into one symbol per byte. Then, repeatedly, the
// adjacent pair with the lowest merge rank is merged (ties: the
// leftmost). Pre-tokenizers ("llama3" and its aliases) for which
// llama.cpp sets ignore_merges first look the whole piece up as a token.
// Decode maps each character of a token back through the inverse table.
// Byte-level BPE is lossless: Decode(Encode(s, false)) == s for any
// bytes s (valid UTF-8 or not) with no special-token text in it.
//
// The pre-tokenizers are hand-written ports of llama.cpp's
// unicode_regex_split_custom_gpt2 and _llama3, because Go's regexp has no
// lookahead:
//
//	gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//	llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//	qwen2:  llama3's with \p{N} in place of \p{N}{1,3}
//
// The case-insensitive contractions are ASCII-only, as in llama.cpp's
// adapted pattern. Letters, numbers and white space are Go's unicode
// tables (Unicode 15.0.0 in Go 1.26); llama.cpp generates its own from
// whatever Unicode version its script ran on, so a code point assigned
// after 15.0 may split differently.
//
// Pre names: "gpt2"/"gpt-2" and the names llama.cpp maps to its GPT-2
// pattern; "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1",
// "pixtral", "midm-2.0", "lfm2", "jina-v5-nano" (with ignore_merges),
// "dbrx", "smaug-bpe", "chatglm-bpe", "glm4" (llama3's pattern, no
// ignore_merges); "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2",
// "megrez", "stablelm2", "hunyuan", "solar-open", "grok-2". Any other
// name, including "default" and "", uses GPT-2's pattern with no error.
//
// # Where this departs from llama.cpp
//
//   - Unknown pre-tokenizer names fall back to GPT-2's pattern; llama.cpp
//     refuses names it does not know, uses a chain of four regular
//     expressions for "default" or a missing name, and has other patterns
//     for names such as "deepseek-llm", "deepseek-v3", "starcoder",
//     "falcon", "command-r", "gpt-4o", "tekken" or "bailingmoe", which here
//     get GPT-2's and so can tokenize differently.
//   - Invalid UTF-8 in BPE input keeps its bytes: each invalid byte is
//     split as U+FFFD would be but encoded as itself. llama.cpp replaces
//     it with U+FFFD (and decodes overlong and surrogate sequences
//     leniently), which loses the bytes.
//   - A BPE symbol that is not a token falls back to its byte-level
//     characters, all of which New checks are tokens; llama.cpp looks up
//     single raw bytes of the encoded text and drops those it does not
//     find. With a consistent vocabulary neither happens.
//   - SentencePiece byte fallback ends in UNK (one per symbol) where
//     llama.cpp would abort; New refuses a vocabulary that has neither
//     all byte tokens nor UNK.
//   - Decode is the plain concatenation of TokenBytes (less the SPM
//     prefix space): llama.cpp's detokenize also applies
//     clean_up_tokenization_spaces for most BPE vocabularies (" ." to
//     "."), which is lossy and which streaming cannot reproduce.
//   - Decode drops the prefix space from the first token that produces
//     bytes; llama.cpp drops it only from the very first token, so a
//     leading BOS keeps the space there.
//   - A normal BPE token with a character outside the byte table decodes
//     to that character's UTF-8; llama.cpp writes "[UNK_BYTE_0x...]".
//   - Where llama.cpp picks one of several candidate tokens by name (EOT,
//     EOM and the FIM tokens) from a hash map, this package picks the
//     lowest id.
//   - Per-model LSTRIP/RSTRIP token attributes (phi-3, jina, modern-bert)
//     and the "unused" attribute are not modelled.
//
// What matches: the partition of special tokens, the SPM and BPE merge
// loops and their tie-breaking, the llama3 ignore_merges rule, the
// name-based end-of-generation set and the control/user-defined type
// fixes llama.cpp applies to tokens by name, and token_to_piece for each
// token type. DefaultVocab gives the defaults llama.cpp assumes when
// metadata keys are missing.
package tokenizer
