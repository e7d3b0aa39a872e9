package agent

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Summarize fits an agent card's name, description and skills to what a
// registration carries, for clients building one from a card: white
// space is collapsed and control characters dropped; the description and
// skill names are shortened at a character boundary to what the chain
// keeps; a name, a skill id or a tag that does not fit, or too many skills
// or tags, is an error that says what to change in the card.
func Summarize(name, description string, skills []Skill) (string, string, []Skill, error) {
	n := oneLine(name)
	if len(n) > MaxNameLen {
		return "", "", nil, fmt.Errorf("the card's name %q is over %d bytes: the registry lists agents by a shorter name", n, MaxNameLen)
	}
	if err := ValidateName(n); err != nil {
		return "", "", nil, fmt.Errorf("the card's name: %w", err)
	}
	if len(skills) > MaxSkills {
		return "", "", nil, fmt.Errorf("the card lists %d skills; the registry indexes at most %d: list the main ones, or split the agent",
			len(skills), MaxSkills)
	}
	out := make([]Skill, 0, len(skills))
	for _, k := range skills {
		sk := Skill{ID: k.ID, Name: shorten(k.Name, MaxSkillNameLen), Tags: []string{}}
		for _, t := range k.Tags {
			if t = oneLine(t); t == "" {
				continue
			}
			if len(t) > MaxTagLen {
				return "", "", nil, fmt.Errorf("the card's skill %q has tag %q, over %d bytes", k.ID, t, MaxTagLen)
			}
			sk.Tags = append(sk.Tags, t)
		}
		out = append(out, sk)
	}
	if err := ValidateSkills(out); err != nil {
		return "", "", nil, fmt.Errorf("the card's skills: %w", err)
	}
	d := shorten(description, MaxDescriptionLen)
	return n, d, out, ValidateDescription(d)
}

// oneLine collapses white space and drops control characters.
func oneLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r >= 0x7f && r < 0xa0 || r == utf8.RuneError {
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// shorten is oneLine cut to at most n bytes at a character boundary.
func shorten(s string, n int) string {
	s = oneLine(s)
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return strings.TrimSpace(s)
}
