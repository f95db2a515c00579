// Package prompts holds the model prompts as text/template files embedded
// with go:embed (notes.v2.tmpl, notes-reduce.v2.tmpl, followup.v1.tmpl,
// answer.v4.tmpl; one file per prompt version), parsed once with
// missingkey=error. Typed render functions (Notes, NotesReduce, FollowUp,
// Answer) return a Prompt: the system and user text together with the
// prompt's name and version, whose Purpose is the Purpose… constant the
// request is sent with and is stored with every generated row.
//
// Transcript text, speaker names, titles, notes and retrieved sources are
// untrusted data. They are rendered on single lines inside clear delimiters
// (<<<TRANSCRIPT … TRANSCRIPT>>> and the like) after Data has neutralised
// anything that could close a delimiter or forge a new line, and every
// system prompt tells the model that the delimited text is data whose
// instructions must be ignored.
//
// The package owns each prompt's input types (NotesInput, FollowUpInput,
// AnswerInput, all an Input) and its version name (PurposeNotes…, written
// once). It sits on layer 1, below internal/llm, whose CompletionRequest
// carries both: Purpose and, in Data, the input the prompt was rendered
// from.
//
// Golden files in testdata pin the rendered output; refresh them with
// go test ./prompts -update.
package prompts
