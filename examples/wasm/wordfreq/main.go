// Command wordfreq reads text on stdin and prints each word with its
// count, most frequent first, ties in alphabetical order. Words are runs
// of letters, digits and apostrophes, compared in lower case.
//
// It is the example job of the README walkthrough: build it for
// WebAssembly as examples/wasm/README.md says and submit the module.
package main

import (
	"bufio"
	"cmp"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

func main() {
	text, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Stderr.WriteString("wordfreq: " + err.Error() + "\n")
		os.Exit(1)
	}
	counts := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(string(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		if w = strings.Trim(w, "'"); w != "" {
			counts[w]++
		}
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	slices.SortFunc(words, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := bufio.NewWriter(os.Stdout)
	for _, w := range words {
		out.WriteString(strconv.Itoa(counts[w]))
		out.WriteByte(' ')
		out.WriteString(w)
		out.WriteByte('\n')
	}
	if err := out.Flush(); err != nil {
		os.Exit(1)
	}
}
