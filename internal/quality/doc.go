// Package quality scores what Logbook writes and finds against the quality
// dev set (../shared/quality): meeting notes against turn-level labels,
// ranked passages against the turns that answer a question, and summaries
// against reference summaries with ROUGE. It is a faithful Go port of the
// shared Python scorers (score_notes.py, score_retrieval.py with its BM25
// baseline, rouge.py with NLTK's Porter stemmer), so that `logbook-bench quality`
// can score a run and compute its baselines in the same process and print
// the same figures the scripts print on the same inputs.
//
// The package reads files only through [LoadDevSet]; every scorer is a pure
// function of a [DevSet] and the system's output. Scores are returned
// unrounded; [Round] rounds them the way the Python scripts print them
// (round(x, n), half-even on the exact binary value).
//
// A run of `logbook-bench quality` looks like this:
//
//	ds, err := quality.LoadDevSet(dir)
//	// notes: the notes API output of each labelled meeting, by meeting id
//	notesRep := quality.ScoreNotes(ds, notes, 1)
//	// search: each question's ranked passages, mapped to Items
//	searchRep, err := quality.ScoreRetrieval(ds, run, quality.DefaultKs())
//	bm25, err := quality.BM25Run(ds, quality.ScopeAccount, 250, 20)
//	bm25Rep, err := quality.ScoreRetrieval(ds, bm25, quality.DefaultKs())
//	// summaries, and the baselines from the transcript at the same length
//	sumRep := quality.ScoreSummaries(ds, summaries, true)
//	lead := map[string]string{}
//	for _, q := range ds.Summaries {
//		m, _ := ds.Meeting(q.MeetingID)
//		lead[q.QID] = quality.LeadBaseline(m, 120)
//	}
//	leadRep := quality.ScoreSummaries(ds, lead, true)
//
// Two tokenisers exist because the scripts differ: the notes scorer drops
// QMSum's {markers} after lowercasing, the retrieval scorer before (so
// "{Disfmarker}" survives there as a word). Each scorer uses its script's.
package quality
