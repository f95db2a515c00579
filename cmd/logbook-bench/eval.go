package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"logbook/activity"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
	"logbook/summarize"
)

// The labelled retrieval set (retrieval/testdata/quality/README.md).
type evalDataset struct {
	Vendor   string `json:"vendor"`
	Accounts []struct {
		Key     string   `json:"key"`
		Name    string   `json:"name"`
		Domains []string `json:"domains"`
	} `json:"accounts"`
	Activities []evalActivity `json:"activities"`
	Questions  []evalQuestion `json:"questions"`
}

type evalActivity struct {
	ExternalID   string            `json:"external_id"`
	Account      string            `json:"account"`
	Type         string            `json:"type"`
	Title        string            `json:"title"`
	OccurredAt   time.Time         `json:"occurred_at"`
	Participants []crm.Participant `json:"participants"`
	Segments     []struct {
		Speaker string `json:"speaker"`
		StartMS int64  `json:"start_ms"`
		EndMS   int64  `json:"end_ms"`
		Text    string `json:"text"`
	} `json:"segments"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

type evalQuestion struct {
	ID           string       `json:"id"`
	Account      string       `json:"account"`
	Question     string       `json:"question"`
	Answers      []evalAnswer `json:"answers"`
	Unanswerable bool         `json:"unanswerable"`
}

// evalAnswer is where a question is answered: an activity and the
// segments that hold the answer (none: the whole activity).
type evalAnswer struct {
	Activity string `json:"activity"`
	Segments []int  `json:"segments"`
}

// evalScores are one retrieval method's figures over the answerable
// questions: all of them, and the odd- and even-numbered ones apart (by the
// number that ends a question's ID), so a change that helps one half and
// hurts the other shows as overfitting rather than as progress.
type evalScores struct {
	Mode           retrieval.Mode
	All, Odd, Even evalFigures
}

// evalFigures are recall@5, recall@10 and mean reciprocal rank over a set
// of questions. Recall is the share of a question's labelled answers
// (activities) found, averaged over the questions.
type evalFigures struct {
	N                 int
	Recall5, Recall10 float64
	MRR               float64
}

// add counts one question's recall@5, recall@10 and reciprocal rank.
func (f *evalFigures) add(r5, r10, rr float64) {
	f.N++
	f.Recall5 += r5
	f.Recall10 += r10
	f.MRR += rr
}

// mean turns the sums add made into averages over the questions.
func (f *evalFigures) mean() {
	if f.N == 0 {
		return
	}
	f.Recall5 /= float64(f.N)
	f.Recall10 /= float64(f.N)
	f.MRR /= float64(f.N)
}

// evalResult is what the harness measured.
type evalResult struct {
	Questions, Answerable, Chunks int
	Scores                        []evalScores // hybrid, vector, full-text
	// Answers: grounded answers to answerable questions, and of those the
	// ones citing a labelled record; ungrounded answers to unanswerable
	// questions.
	Grounded, GroundedRight, Declined, Unanswerable int
}

// evalDim is the dimension the harness embeds at: the chunks table's
// default (EMBED_DIM).
const evalDim = 384

// evalOdd reports whether a question is odd-numbered: its ID ends in an
// odd number ("acme-07"). An ID without a number counts as even.
func evalOdd(id string) bool {
	i := strings.LastIndexFunc(id, func(r rune) bool { return r < '0' || r > '9' })
	n, err := strconv.Atoi(id[i+1:])
	return err == nil && n%2 == 1
}

func loadEvalDataset(path string) (evalDataset, error) {
	var ds evalDataset
	b, err := os.ReadFile(path)
	if err != nil {
		return ds, err
	}
	if err := json.Unmarshal(b, &ds); err != nil {
		return ds, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// runEval loads the dataset into a new org through the real pipeline
// (local notes, chunking, local embeddings) and scores every retrieval
// method, then asks every question through retrieval.Ask.
func runEval(ctx context.Context, st *store.Store, ds evalDataset, progress io.Writer) (evalResult, error) {
	var res evalResult
	p := local.New(evalDim)
	svc, err := retrieval.New(retrieval.Config{Store: st, Embedder: p, Completer: p,
		EmbedModel: p.Model()})
	if err != nil {
		return res, err
	}
	sum := summarize.New(p, summarize.Config{})
	org, err := st.OrgCreate(ctx, "retrieval eval "+time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return res, err
	}
	accounts := map[string]string{}
	for _, a := range ds.Accounts {
		acct, err := st.AccountCreate(ctx, org.ID, crm.AccountInput{Name: crm.Some(a.Name), Domains: crm.Some(a.Domains)})
		if err != nil {
			return res, fmt.Errorf("account %s: %w", a.Key, err)
		}
		accounts[a.Key] = acct.ID
	}
	activities := map[string]string{} // activity ID → external_id
	for i, a := range ds.Activities {
		id, n, err := evalLoad(ctx, st, svc, sum, org.ID, accounts[a.Account], a)
		if err != nil {
			return res, fmt.Errorf("activity %s: %w", a.ExternalID, err)
		}
		activities[id] = a.ExternalID
		res.Chunks += n
		if progress != nil && (i+1)%10 == 0 {
			fmt.Fprintf(progress, "eval: loaded %d/%d activities\n", i+1, len(ds.Activities))
		}
	}
	relevant := func(q evalQuestion, c crm.Chunk) int { // index of the answer the chunk holds, or -1
		ext := activities[c.ActivityID]
		for i, ans := range q.Answers {
			if ans.Activity != ext {
				continue
			}
			if len(ans.Segments) == 0 {
				return i
			}
			for _, l := range c.Lines {
				if l.Segment != nil && slices.Contains(ans.Segments, *l.Segment) {
					return i
				}
			}
		}
		return -1
	}
	for _, mode := range []retrieval.Mode{retrieval.Hybrid, retrieval.VectorOnly, retrieval.TextOnly} {
		sc := evalScores{Mode: mode}
		for _, q := range ds.Questions {
			if q.Unanswerable {
				continue
			}
			hits, err := svc.Search(ctx, retrieval.Question{OrgID: org.ID, AccountID: accounts[q.Account], Text: q.Question}, mode, 10)
			if err != nil {
				return res, err
			}
			found5, found10 := map[int]bool{}, map[int]bool{}
			first := 0
			for rank, h := range hits {
				i := relevant(q, h.Chunk)
				if i < 0 {
					continue
				}
				if first == 0 {
					first = rank + 1
				}
				found10[i] = true
				if rank < 5 {
					found5[i] = true
				}
			}
			r5 := float64(len(found5)) / float64(len(q.Answers))
			r10 := float64(len(found10)) / float64(len(q.Answers))
			rr := 0.0
			if first > 0 {
				rr = 1 / float64(first)
			}
			sc.All.add(r5, r10, rr)
			if evalOdd(q.ID) {
				sc.Odd.add(r5, r10, rr)
			} else {
				sc.Even.add(r5, r10, rr)
			}
		}
		sc.All.mean()
		sc.Odd.mean()
		sc.Even.mean()
		res.Answerable = sc.All.N
		res.Scores = append(res.Scores, sc)
	}
	res.Questions = len(ds.Questions)
	for _, q := range ds.Questions {
		a, err := svc.Ask(ctx, retrieval.Question{OrgID: org.ID, AccountID: accounts[q.Account], Text: q.Question}, nil)
		if err != nil {
			return res, err
		}
		if q.Unanswerable {
			res.Unanswerable++
			if !a.Grounded {
				res.Declined++
			}
			continue
		}
		if !a.Grounded {
			continue
		}
		res.Grounded++
		for _, c := range a.Citations {
			if slices.ContainsFunc(q.Answers, func(ans evalAnswer) bool { return ans.Activity == activities[c.ActivityID] }) {
				res.GroundedRight++
				break
			}
		}
	}
	return res, nil
}

// evalLoad stores one activity of the set the way production does: a
// meeting's transcript, its local notes and their chunks in one
// transaction; any other activity indexed as the activity:index task does.
func evalLoad(ctx context.Context, st *store.Store, svc *retrieval.Service, sum *summarize.Summarizer, orgID, accountID string, a evalActivity) (string, int, error) {
	if a.Type != "meeting" {
		in := crm.ActivityInput{Type: crm.Some(crm.ActivityType(a.Type)), AccountID: crm.Some(accountID),
			OccurredAt: crm.Some(a.OccurredAt.Format(time.RFC3339)), Subject: crm.Some(a.Subject), Body: crm.Some(a.Body),
			Participants: crm.Some(a.Participants), Source: crm.Some(crm.SourceAPI), ExternalID: crm.Some(a.ExternalID)}
		if err := in.Validate(true); err != nil {
			return "", 0, err
		}
		act, _, _, err := activity.New(st).Upsert(ctx, orgID, in)
		if err != nil {
			return "", 0, err
		}
		n, err := svc.IndexActivity(ctx, orgID, act.ID)
		return act.ID, n, err
	}
	segs := make([]crm.Segment, len(a.Segments))
	for i, s := range a.Segments {
		segs[i] = crm.Segment{Index: i, Speaker: s.Speaker, StartMS: s.StartMS, EndMS: s.EndMS, Text: s.Text}
	}
	ext := a.ExternalID
	ing, err := activity.New(st).IngestTranscript(ctx, orgID, store.TranscriptIngest{
		Source: "eval", ExternalID: &ext, Title: a.Title, StartedAt: a.OccurredAt, Format: "segments", Segments: segs,
		Participants: a.Participants,
		Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(accountID),
			OccurredAt: crm.Some(a.OccurredAt.Format(time.RFC3339)), Source: crm.Some(crm.SourceNotetaker),
			ExternalID: crm.Some(a.ExternalID), Subject: crm.Some(a.Title)},
	})
	if err != nil {
		return "", 0, err
	}
	tr := ing.Transcript
	notes, err := sum.Notes(ctx, summarize.Meeting{Title: a.Title, Date: a.OccurredAt, Participants: a.Participants, Segments: segs})
	if err != nil {
		return "", 0, err
	}
	chunks, err := svc.MeetingChunks(ctx, orgID, tr.ActivityID, segs, notes)
	if err != nil {
		return "", 0, err
	}
	if _, err := st.NotesSave(ctx, orgID, tr.ID, tr.Revision, notes, chunks); err != nil {
		return "", 0, err
	}
	return tr.ActivityID, len(chunks), nil
}

func printEval(w io.Writer, r evalResult) {
	fmt.Fprintf(w, "## Retrieval quality (labelled set: %d questions, %d answerable; %d chunks; local embedder %s, %d dimensions)\n\n",
		r.Questions, r.Answerable, r.Chunks, local.EmbedModel, evalDim)
	fmt.Fprintln(w, "| method | questions | recall@5 | recall@10 | MRR |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range r.Scores {
		for _, part := range []struct {
			name string
			f    evalFigures
		}{{"all", s.All}, {"odd", s.Odd}, {"even", s.Even}} {
			fmt.Fprintf(w, "| %s | %s (%d) | %.3f | %.3f | %.3f |\n", s.Mode, part.name, part.f.N, part.f.Recall5, part.f.Recall10, part.f.MRR)
		}
	}
	fmt.Fprintf(w, "\nAnswers (retrieval.Ask, local provider): %d of %d answerable questions answered grounded, %d of them citing a labelled record; %d of %d unanswerable questions answered \"nothing on record\".\n",
		r.Grounded, r.Answerable, r.GroundedRight, r.Declined, r.Unanswerable)
}

func cmdEval(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("eval", "Score retrieval (recall@5/10, MRR: hybrid, vector, full-text) and answers on the hand-written labelled\nset, in a database it creates afresh (-db, dropped first).", stderr)
	data := fs.String("data", "retrieval/testdata/quality/dataset.json", "the labelled set")
	dbName := fs.String("db", "logbook_eval", "database to create afresh and use")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ds, err := loadEvalDataset(*data)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	dbURL, err := freshDatabase(ctx, cfg.DatabaseURL, *dbName)
	if err != nil {
		return err
	}
	pool, err := store.Connect(ctx, dbURL, store.PoolConfig{})
	if err != nil {
		return err
	}
	defer pool.Close()
	start := time.Now()
	r, err := runEval(ctx, store.New(pool), ds, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "command: logbook-bench eval %s (%s)\n\n", *data, time.Since(start).Round(time.Millisecond))
	printEval(stdout, r)
	return nil
}

// freshDatabase drops the database name on the server of dbURL, creates and
// migrates it anew, and returns its URL: the quality harnesses measure on a
// database of their own, never on live data.
func freshDatabase(ctx context.Context, dbURL, name string) (string, error) {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "", fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	admin := *u
	admin.Path = "/postgres"
	if err := app.DropDatabase(ctx, admin.String(), name); err != nil {
		return "", err
	}
	u.Path = "/" + name
	if _, err := app.Migrate(ctx, u.String()); err != nil {
		return "", err
	}
	return u.String(), nil
}
