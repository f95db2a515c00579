package retrieval

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf16"

	"logbook/internal/stem"
)

// Highlight is where one of a query's words occurs in a passage's text:
// the half-open range [Start, End) in UTF-16 code units, which is how
// JavaScript (and Java, and Swift's NSString) index strings, so
// text.slice(start, end) is the word. For text inside the Basic
// Multilingual Plane these are also code point (rune) offsets; a character
// outside it (an emoji) counts two.
type Highlight struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Passages returns at most k passages that match a search query, best
// first: the hybrid search's hits, with the query's words highlighted,
// less those found by meaning alone that share no word with the query and
// sit below MinSimilarity (the vector list always has a nearest chunk,
// relevant or not). A query with no searchable words finds nothing.
func (s *Service) Passages(ctx context.Context, q Question, k int) ([]Hit, error) {
	terms := QueryTerms(q.Text)
	if len(terms) == 0 {
		return nil, nil
	}
	hits, err := s.Search(ctx, q, Hybrid, k)
	if err != nil {
		return nil, err
	}
	out := hits[:0]
	for _, h := range hits {
		h.Highlights = Highlights(h.Text, terms)
		if h.TextRank == 0 && len(h.Highlights) == 0 && h.Similarity < s.cfg.MinSimilarity {
			continue
		}
		out = append(out, h)
	}
	return out, nil
}

// QueryTerms returns the stemmed content words of a search query: the
// words Search weighs and Highlights marks. A query with none (only
// punctuation or stop words) has nothing to search for.
func QueryTerms(query string) []string { return contentTerms(query) }

// Highlights returns where the terms (QueryTerms' stems) occur in text, in
// order. Words are runs of letters and digits, as the search reads them,
// compared lower-cased and stemmed (stem.Word), so "Promised" marks for
// "promise"; a term only ever marks a whole word, never part of one
// ("price" does not mark inside "priceless"). It returns an empty slice,
// never nil, when nothing matches.
func Highlights(text string, terms []string) []Highlight {
	out := []Highlight{}
	if len(terms) == 0 {
		return out
	}
	want := make(map[string]bool, len(terms))
	for _, t := range terms {
		want[t] = true
	}
	start, startU16, u16 := -1, 0, 0
	mark := func(end int) {
		if start < 0 {
			return
		}
		if want[stem.Word(strings.ToLower(text[start:end]))] {
			out = append(out, Highlight{Start: startU16, End: u16})
		}
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start, startU16 = i, u16
			}
		} else {
			mark(i)
		}
		// An invalid byte decodes as U+FFFD, one code unit, as it does in
		// a JSON client.
		if n := utf16.RuneLen(r); n > 0 {
			u16 += n
		} else {
			u16++
		}
	}
	mark(len(text))
	return out
}
