// Package quality scores what Logbook writes and finds against the quality
// dev set (../shared/quality): meeting notes against turn-level labels,
// ranked passages against the turns that answer a question, and summaries
// against reference summaries with ROUGE. It is a faithful Go port of the
// shared Python scorers (score_notes.py, score_retrieval.py with its BM25
// baseline, rouge.py with NLTK's Porter stemmer), so that `logbook quality`
// can score a run and compute its baselines in the same process and print
// the same figures the scripts print on the same inputs.
//
// The package reads files only through [LoadDevSet]; every scorer is a pure
// function of a [DevSet] and the system's output. Scores are returned
// unrounded; [Round] rounds them the way the Python scripts print them
// (round(x, n), half-even on the exact binary value).
//
// Two tokenisers exist because the scripts differ: the notes scorer drops
// QMSum's {markers} after lowercasing, the retrieval scorer before (so
// "{Disfmarker}" survives there as a word). Each scorer uses its script's.
package quality
