// Package transcript parses meeting transcripts into []crm.Segment: WebVTT
// (as Zoom, Microsoft Teams and YouTube's automatic captions write it), SRT,
// plain text ("Speaker: text" lines with optional timestamps, Otter.ai
// exports and Google Meet transcripts saved from Google Docs) and JSON (our
// own segments, Recall.ai, Fireflies and HubSpot/Attio-style utterance
// lists). Parse picks a parser by name, or by sniffing the content with
// Detect; ParseFull also returns what the transcript says about the meeting
// (Meta: a Meet export's title, date, attendees and length), which is never
// turned into utterances. FromSegments applies the same normalisation to
// segments a client posts directly.
//
// A speaker label must look like a name: a sentence opening before a colon
// ("One more thing: …", "Quick Question: …") is text, whatever its case,
// unless the file uses it as a label again and again; in a Meet export a
// label used once that names no attendee is text too.
//
// Every parser produces raw fragments (a speaker, a time range, some text)
// and one normaliser turns them into segments, so every later step sees one
// clean shape whatever the recorder produced:
//
//   - markup is stripped (WebVTT voice, class, karaoke and language tags,
//     <i>/<b>/<u>, <font>), HTML entities are decoded, invisible and control
//     characters are dropped and whitespace is collapsed;
//   - a blank speaker becomes "Unknown"; names lose trailing colons and
//     surrounding brackets;
//   - consecutive fragments of one speaker are merged (joined with a space)
//     unless the result would pass MergeMaxRunes characters or the speaker
//     was silent for more than MergeMaxGap (measured from the previous
//     fragment's start when the format gives no end times), so that a
//     citation still points at a small, precise stretch of the meeting;
//   - times are in milliseconds, never negative, EndMS ≥ StartMS; a missing
//     end is taken from the next segment's start; input order is kept (a
//     stable sort by start time only repairs input that goes back in time);
//   - empty texts are dropped and Index is renumbered 0..n-1.
//
// The package is pure (no I/O, no clock, no globals that change) and
// deterministic, and it is fuzzed: any input either parses into segments
// that keep those invariants or returns an error, and never panics. Errors
// are ErrTooLong (more than MaxWords words or MaxSegments segments; the API
// answers 413) or match ErrInvalid — a *ParseError naming the format, line and
// reason, or ErrEmpty — which also match crm.ErrInvalid (the API answers 422).
package transcript
