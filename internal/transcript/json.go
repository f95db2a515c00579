package transcript

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// itemKeys are the keys, tried in order, under which a JSON transcript
// keeps its list of segments, sentences or utterances; an object under one
// of them (Fireflies' {"data":{"transcript":{"sentences":[…]}}}) is searched
// the same way.
var itemKeys = []string{
	"segments", "sentences", "utterances", "monologues", "transcript", "transcripts",
	"data", "results", "entries", "items", "captions", "paragraphs", "turns", "blocks",
}

// Time keys, tried in order. A key ending in "_ms", "Ms" or "MS" holds
// milliseconds; any other holds seconds.
var (
	startKeys = []string{
		"start_ms", "startMs", "startMS", "start_time_ms", "startTimeMs", "startTimeMS",
		"start_timestamp", "startTimestamp", "start_time", "startTime", "start",
		"start_seconds", "startSeconds", "start_offset", "startOffset", "begin",
	}
	endKeys = []string{
		"end_ms", "endMs", "endMS", "end_time_ms", "endTimeMs", "endTimeMS",
		"end_timestamp", "endTimestamp", "end_time", "endTime", "end",
		"end_seconds", "endSeconds", "end_offset", "endOffset", "stop",
	}
	durationKeys = []string{"duration_ms", "durationMs", "durationMS", "duration"}
	textKeys     = []string{"text", "sentence", "raw_text", "rawText", "content", "transcript", "body", "value"}
	wordTextKeys = []string{"text", "punctuated_word", "word"}
	speakerKeys  = []string{
		"speaker", "speaker_name", "speakerName", "participant", "name", "user", "author",
		"speaker_label", "speakerLabel", "person",
	}
	nameKeys = []string{"name", "display_name", "displayName", "full_name", "fullName", "email"}
)

// parseJSON parses our own {"segments":[{speaker,start_ms,end_ms,text}]}
// or a bare array of those, Recall.ai word lists, Fireflies sentences (also
// nested under data.transcript) and utterance lists with speaker, text and
// time keys in their many spellings.
func parseJSON(content []byte) ([]fragment, error) {
	var v any
	if err := json.Unmarshal(content, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := min(max(se.Offset, 0), int64(len(content)))
			line := 1 + strings.Count(string(content[:off]), "\n")
			return nil, &ParseError{Format: FormatJSON, Line: line, Reason: se.Error()}
		}
		return nil, &ParseError{Format: FormatJSON, Reason: err.Error()}
	}
	items, ok := findItems(v, 0)
	if !ok {
		return nil, &ParseError{Format: FormatJSON, Reason: "expected an array of segments, or an object with segments, sentences or utterances"}
	}
	frags := make([]fragment, 0, len(items))
	var now int64
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, &ParseError{Format: FormatJSON, Reason: fmt.Sprintf("segment %d is not an object", i)}
		}
		f, hasStart := jsonItem(m)
		if hasStart {
			now = f.start
		} else {
			f.start = now
		}
		frags = append(frags, f)
	}
	return frags, nil
}

// findItems finds the list of segments in a decoded JSON value.
func findItems(v any, depth int) ([]any, bool) {
	if depth > 4 {
		return nil, false
	}
	switch x := v.(type) {
	case []any:
		return x, true
	case map[string]any:
		for _, k := range itemKeys {
			if c, ok := x[k]; ok {
				if items, ok := findItems(c, depth+1); ok {
					return items, true
				}
			}
		}
		if _, ok := x["words"]; ok && depth == 0 {
			return []any{x}, true
		}
		if _, ok := x["text"]; ok && depth == 0 {
			return []any{x}, true
		}
	case nil:
		if depth > 0 {
			return nil, true // "segments": null is an empty list
		}
	}
	return nil, false
}

// jsonItem reads one segment object.
func jsonItem(m map[string]any) (f fragment, hasStart bool) {
	f.speaker = jsonSpeaker(m)
	f.text = firstString(m, textKeys)
	f.start, hasStart = jsonTime(m, startKeys)
	f.end, f.hasEnd = jsonTime(m, endKeys)
	if words, ok := m["words"].([]any); ok && len(words) > 0 {
		text, ws, we, hs, he := joinWords(words)
		if strings.TrimSpace(f.text) == "" {
			f.text = text
		}
		if !hasStart && hs {
			f.start, hasStart = ws, true
		}
		if !f.hasEnd && he {
			f.end, f.hasEnd = we, true
		}
	}
	if !f.hasEnd && hasStart {
		if d, ok := jsonTime(m, durationKeys); ok {
			f.end, f.hasEnd = clampMS(f.start+d), true
		}
	}
	return f, hasStart
}

// jsonSpeaker finds the speaker's name: a string, or an object with a name,
// under one of speakerKeys; a number is "Speaker N".
func jsonSpeaker(m map[string]any) string {
	for _, k := range speakerKeys {
		switch x := m[k].(type) {
		case string:
			if strings.TrimSpace(x) != "" {
				return x
			}
		case map[string]any:
			if s := firstString(x, nameKeys); strings.TrimSpace(s) != "" {
				return s
			}
		case float64:
			return speakerNumber(x)
		}
	}
	for _, k := range []string{"speaker_id", "speakerId"} {
		switch x := m[k].(type) {
		case float64:
			return speakerNumber(x)
		case string:
			if strings.TrimSpace(x) != "" {
				return "Speaker " + x
			}
		}
	}
	return ""
}

func speakerNumber(x float64) string {
	if x != math.Trunc(x) || math.Abs(x) > 1e9 {
		return "Speaker " + strconv.FormatFloat(x, 'g', 6, 64)
	}
	return "Speaker " + strconv.FormatInt(int64(x), 10)
}

func firstString(m map[string]any, keys []string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// jsonTime reads the first time present under keys, in milliseconds. A
// number is seconds or, for a key ending in "_ms"/"Ms"/"MS", milliseconds; a
// string is a number or a clock ("00:01:05.120"); an object is Recall.ai's
// {"relative": seconds}.
func jsonTime(m map[string]any, keys []string) (int64, bool) {
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		scale := 1000.0
		if strings.HasSuffix(k, "_ms") || strings.HasSuffix(k, "Ms") || strings.HasSuffix(k, "MS") {
			scale = 1
		}
		if ms, ok := timeValue(v, scale); ok {
			return ms, true
		}
	}
	return 0, false
}

func timeValue(v any, scale float64) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return floatToMS(x, scale), true
	case string:
		s := strings.TrimSpace(x)
		if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return floatToMS(f, scale), true
		}
		if ms, ok := parseClock(s); ok {
			return ms, true
		}
	case map[string]any:
		if r, ok := x["relative"]; ok {
			return timeValue(r, 1000)
		}
	}
	return 0, false
}

// joinWords joins word objects into text, with no space before punctuation
// tokens (",", "?", "'s") or after opening ones ("(", "$"), and returns the
// first word's start and the last word's end.
func joinWords(words []any) (text string, start, end int64, hasStart, hasEnd bool) {
	var b strings.Builder
	prev := ""
	for _, w := range words {
		m, ok := w.(map[string]any)
		if !ok {
			continue
		}
		tok := strings.TrimSpace(firstString(m, wordTextKeys))
		if tok == "" {
			continue
		}
		if !hasStart {
			start, hasStart = jsonTime(m, startKeys)
		}
		if e, ok := jsonTime(m, endKeys); ok {
			end, hasEnd = e, true
		}
		if b.Len() > 0 && !noSpaceBefore(tok) && !noSpaceAfter(prev) {
			b.WriteByte(' ')
		}
		b.WriteString(tok)
		prev = tok
	}
	return b.String(), start, end, hasStart, hasEnd
}

func noSpaceBefore(tok string) bool {
	r, _ := utf8.DecodeRuneInString(tok)
	switch r {
	case '.', ',', '!', '?', ';', ':', '%', ')', ']', '}', '…':
		return true
	case '\'', '’':
		return len(tok) > 1
	}
	return tok == "n't"
}

func noSpaceAfter(tok string) bool {
	switch tok {
	case "(", "[", "{", "$", "“", "#":
		return true
	}
	return false
}
