// Package local is Logbook's offline, default language-model provider
// (LLM_PROVIDER=local), so that a fresh checkout runs the whole pipeline
// without secrets or network access. It is deterministic: the same input
// always gives the same output (no randomness, no clock, no map order).
//
// # Embeddings
//
// Embed (model name EmbedModel, "local-hash-v3"; the hashing is package
// hashvec) hashes features into the configured dimension: stemmed
// lower-case word unigrams (minus a small list of English stop words and
// spoken fillers) and bigrams of
// neighbouring content words, hashed with FNV-1a (finalised with
// MurmurHash3's fmix64 so every bit counts), signed by a hash bit,
// weighted by sublinear term frequency 1+ln(tf) and L2-normalised. There
// is no list of synonyms: texts are close when they share words and word
// pairs, whatever the trade. NewWithSeed changes the hashing (which
// features collide), so a measure can be averaged over seeds; the seed is
// part of the model name. A text with no content words embeds to the unit
// vector along dimension 0.
//
// # Completions
//
// Complete switches on the request's Purpose and works from its Data, never
// from the prompt text, so nothing said in a transcript ("ignore all
// previous instructions…") can steer it. Sentences that read like
// instructions to a model are, moreover, never extracted.
//
// Notes (notes.v2, notes-reduce.v2) are precision first: a sentence is
// read (package speech) without its disfluencies (fillers, repeated words, false starts, so
// "you could you could have" is never "could you"), and three right items
// beat fifteen noisy ones.
//
// The summary is at most 120 words of reported speech ("Team Lead said
// the team would…", a speaker named by their label): the most central
// sentences — cosine similarity of a sentence's hashed vector to the whole
// meeting's, times a length prior, skipping greetings, small talk and very
// short sentences — chosen by maximal marginal relevance so they do not
// repeat each other, in meeting order, first person made third and
// disfluencies dropped; their quotes stay verbatim. Key points are the
// next most central sentences that carry the meeting's topic words.
//
// Decisions (outcomes.go) are weighed on a choice said by the team ("we're
// going with…", "let's do that", "X is definitely out") and on whether the
// others agree in the next turns; recaps ("as we discussed last time"),
// suppositions, other people's choices and disputed ones are left out.
// Risks are concerns named ("the problem is…", "expensive", "too
// complex", "it might interfere…"), unless negated ("you don't have to
// worry about…", "not very expensive") or looking back. At most 10 of each
// a meeting, the heaviest.
//
// Action items (cues.go, actions.go, commit.go, requests.go) open on a
// commitment cue:
//
//   - first person ("I'll", "I will", "I'm going to", "I can send", "let
//     me", "I need to"): owned by the speaker;
//   - "<Name> will…", "the <Role> is gonna…", "I'll have <Name>…": owned by
//     that person (a speaker label of several words said in full);
//   - requests ("can you", "would you mind", "please send", "I need you
//     to") and assignments ("you're going to look at…", "you'll be
//     working on…"): owned by the person addressed by name, else by whoever
//     takes it on in the next turns (a yes, or a short acknowledgement; a
//     yes with its own "I'll…" is folded into the request and lends it its
//     date), else — for requests, when only two people are talking — the
//     other one; one given to several people ("you two", "together") has
//     no owner;
//   - "we'll…", "let's…": owned by nobody unless a person is addressed.
//
// Questions that are not requests, hypotheticals ("if…, I'll…"), retold
// plans ("I thought I'll…"), negations, things done there and then ("I'll
// just draw it", "put the top in", "I'll take minutes"), vague verbs
// ("we'll have…") and cut-off clauses are not commitments. What is left is
// weighed — who committed (the speaker or a named person; a request or
// assignment once taken on), work done away from the table ("send",
// "look into"), a time after the meeting ("by Friday", "next meeting"),
// less for a hedge — and kept from weight 3: every one with a calendar due
// date and at most 6 others a meeting. The text is the commitment clause
// without disfluencies ("send the SOC 2 report by Friday"), the quote the
// whole sentence as said, the due date the date phrase said in it (package
// datephrase; never one in the past), and hedges ("might", "try to")
// make it tentative.
// Every claim cites the Index of the segment it quotes, and every quote is
// a verbatim substring of that segment's text.
//
// Follow-ups (followup.v1) are plain-text emails built from the validated
// notes only. Answers (answer.v4, package answer) quote the one to three
// source sentences that say most about what is asked (a sentence with
// content words and a verb holding the question's terms, weighed by rarity,
// plus hashed cosine), with a neighbour of the same turn for context, each
// as the words of the speaker named outside the quotation and followed by
// its source marker "[n]" (never a line of a meeting's notes, which
// restates what was said), or say answer.NothingOnRecord.
package local
