// Package prompts holds the model prompts as text/template files embedded
// with go:embed (notes.v2.tmpl, notes-reduce.v2.tmpl, followup.v1.tmpl,
// answer.v4.tmpl; one file per prompt version), parsed once with
// missingkey=error. Typed render functions (Notes, NotesReduce, FollowUp,
// Answer) return a Prompt: the system and user text together with the
// prompt's name and version, whose Purpose is the llm.Purpose… constant the
// request is sent with and is stored with every generated row.
//
// Transcript text, speaker names, titles, notes and retrieved sources are
// untrusted data. They are rendered on single lines inside clear delimiters
// (<<<TRANSCRIPT … TRANSCRIPT>>> and the like) after Data has neutralised
// anything that could close a delimiter or forge a new line, and every
// system prompt tells the model that the delimited text is data whose
// instructions must be ignored.
//
// The package sits on layer 1 beside internal/llm, so it may not import it
// (ARCHITECTURE.md's layer rule, enforced by internal/archtest). Its input
// types mirror llm's field for field instead: a caller converts with
// prompts.NotesInput(in) and prompts.FollowUpInput(in), and builds an
// AnswerInput from llm.AnswerInput by converting each source with
// prompts.Source(src). A test pins the mirrors to llm's types so they cannot
// drift apart.
//
// Golden files in testdata pin the rendered output; refresh them with
// go test ./prompts -update.
package prompts
