// Package local is Logbook's offline, default language-model provider
// (LLM_PROVIDER=local), so that a fresh checkout runs the whole pipeline
// without secrets or network access. It is deterministic: the same input
// always gives the same output (no randomness, no clock, no map order).
//
// # Embeddings
//
// Embed (model name EmbedModel, "local-hash-v3") hashes features into the
// configured dimension: stemmed lower-case word unigrams (minus a small
// list of English stop words and spoken fillers) and bigrams of
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
// Notes (notes.v1, notes-reduce.v1): the summary is the 3–6 most central
// sentences — cosine similarity of a sentence's hashed vector to the whole
// meeting's, times a length prior, skipping greetings, small talk and very
// short sentences — chosen by maximal marginal relevance so they do not
// repeat each other, in meeting order. Key points are the next most central
// sentences that carry the meeting's topic words. Decisions and risks are
// sentences with cue phrases ("we agreed", "let's go with"; "concern",
// "budget freeze", "if … isn't ready"), unless negated.
//
// Action items come from commitment patterns:
//
//   - first person ("I'll", "I will", "I'm going to", "I can send", "let
//     me", "I need to"): owned by the speaker;
//   - "<Name> will…", "I'll have <Name>…": owned by that person;
//   - requests ("can you", "could you", "would you", "please send", "I need
//     you to"): owned by the person addressed by name ("Sam, can you…",
//     "…, Sam?"), else by whoever answers the request with a yes in the next
//     turns (their answer, "Sure, I'll send that tomorrow", is folded into
//     the request and lends it its date), else — when only two people are
//     talking — the other one, else by nobody;
//   - "we'll…": owned by nobody (it could be either side) unless a person
//     is addressed as the doer ("Sam, we'll need the quote").
//
// Questions that are not requests, past tense, negations ("I won't", "I
// don't think I can") and things done there and then ("let me share my
// screen") are not commitments. The text is the commitment clause as said
// ("send the SOC 2 report by Friday"), the quote the whole sentence, the due
// date the date phrase said in it (package datephrase; never one in the
// past), and hedges ("might", "try to", "I think I can") make it tentative.
// Every claim cites the Index of the segment it quotes, and every quote is
// a verbatim substring of that segment's text.
//
// Follow-ups (followup.v1) are plain-text emails built from the validated
// notes only. Answers (answer.v3) quote the one to three source sentences
// that say most about what is asked (a sentence with content words and a
// verb holding the question's terms, weighed by rarity, plus hashed
// cosine), with a neighbour of the same turn for context, each as the
// words of the speaker named outside the quotation and followed by its
// source marker "[n]", or say NothingOnRecord.
package local
