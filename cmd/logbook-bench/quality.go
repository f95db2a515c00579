package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/llm/local"
	"logbook/internal/quality"
	"logbook/internal/store"
	"logbook/retrieval"
)

// The quality loop (QUALITY.md): the dev set of real meetings in
// ../shared/quality goes through the real API and worker, exactly as a
// note-taker's transcripts would, and what Logbook wrote (notes, summaries,
// search results, answers) is scored against the set's labels beside
// baselines computed in the same run.

// qualityMeeting is one meeting of the set as the loop posted it.
type qualityMeeting struct {
	ID         string // the set's meeting ID ("ES2006a")
	Account    string // the set's account key ("ES2006")
	Transcript string // Logbook's transcript ID
	Activity   string // the meeting activity
}

// qualityCollected is what one pass of the loop got back from Logbook.
type qualityCollected struct {
	Meetings []qualityMeeting
	// Notes are the meeting notes by meeting ID, as GET /v1/activities/{id}
	// returns them.
	Notes map[string]crm.Notes
	// Search holds each method's ranked passages by question ID: "hybrid"
	// through GET /v1/accounts/{id}/search, "vector" and "full-text" through
	// retrieval.Service.Search in process (the API serves hybrid only).
	Search map[string]quality.Run
	// Answers are POST /v1/accounts/{id}/ask's answers by question ID.
	Answers map[string]retrieval.Answer
	// Model names the notes' model and the embedding model.
	Model string
	// OrgID is the org the loop made; AccountIDs its accounts by key.
	OrgID      string
	AccountIDs map[string]string
	// MeetingOf maps a meeting activity to the set's meeting ID, and
	// AccountOf a meeting ID to Logbook's account ID.
	MeetingOf, AccountOf map[string]string
	// Questions are the questions asked, in the gold set's order.
	Questions []quality.RetrievalQuery
	// Unanswerable are the questions the loop asked that nothing in their
	// account can answer (see unanswerableQuestions) with the answers.
	Unanswerable []unanswered
	// Segments are each meeting's transcript segments as Logbook parsed
	// them (GET /v1/transcripts/{id}?include=segments), by meeting ID.
	Segments map[string][]crm.Segment
}

// qualityClient calls a running Logbook's API with one key.
type qualityClient struct {
	ctx  context.Context
	http *http.Client
	base string
	key  string
}

func (c *qualityClient) post(path string, body, out any, want int) error {
	return app.PostJSON(c.ctx, c.http, c.base+path, c.key, body, out, want)
}

func (c *qualityClient) get(path string, out any) error {
	return app.GetJSON(c.ctx, c.http, c.base+path, c.key, out)
}

// qualityStart is the date the loop gives a series' first meeting; the next
// ones follow a week apart, in the order of their IDs.
var qualityStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// collectQuality runs Logbook (API and worker, in this process, on private
// queues) on a, posts every meeting of the chosen accounts through the API
// into a new org, waits for the workers, and collects notes, search results
// and answers. progress (optional) gets a line per step.
func collectQuality(ctx context.Context, a *app.App, ds *quality.DevSet, accounts []string, progress io.Writer) (_ *qualityCollected, err error) {
	say := func(format string, args ...any) {
		if progress != nil {
			fmt.Fprintf(progress, "quality: "+format+"\n", args...)
		}
	}
	base, stop, err := a.RunPrivate(ctx, fmt.Sprintf("quality-%d-%d-", os.Getpid(), time.Now().UnixNano()))
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stop()) }()
	st := store.New(a.Pool)
	orgID, key, err := app.CreateOrg(ctx, st, "quality "+time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return nil, err
	}
	c := &qualityClient{ctx: ctx, http: &http.Client{Timeout: 2 * time.Minute}, base: base, key: key}

	out := &qualityCollected{Notes: map[string]crm.Notes{}, Search: map[string]quality.Run{},
		Answers: map[string]retrieval.Answer{}, Segments: map[string][]crm.Segment{}}
	accountIDs := map[string]string{}
	out.OrgID, out.AccountIDs = orgID, accountIDs
	for _, acct := range accounts {
		var res struct {
			ID string `json:"id"`
		}
		if err := c.post("/v1/accounts", map[string]any{"name": "Team " + acct}, &res, http.StatusCreated); err != nil {
			return nil, err
		}
		accountIDs[acct] = res.ID
		for i, mid := range ds.Accounts[acct] {
			content, err := os.ReadFile(ds.VTT[mid])
			if err != nil {
				return nil, fmt.Errorf("quality: %w", err)
			}
			body := map[string]any{"source": "quality", "external_id": mid, "title": "Meeting " + mid,
				"started_at": qualityStart.AddDate(0, 0, 7*i).Format(time.RFC3339), "account_id": res.ID,
				"format": "vtt", "content": string(content)}
			var acc transcriptAcceptedJSON
			if err := c.post("/v1/transcripts", body, &acc, http.StatusAccepted); err != nil {
				return nil, fmt.Errorf("quality: post %s: %w", mid, err)
			}
			out.Meetings = append(out.Meetings, qualityMeeting{ID: mid, Account: acct, Transcript: acc.ID, Activity: acc.ActivityID})
		}
	}
	say("posted %d meetings of %d accounts through POST /v1/transcripts", len(out.Meetings), len(accounts))
	if err := waitProcessed(ctx, c, out.Meetings, say); err != nil {
		return nil, err
	}
	out.MeetingOf, out.AccountOf = map[string]string{}, map[string]string{}
	for _, m := range out.Meetings {
		out.MeetingOf[m.Activity] = m.ID
		out.AccountOf[m.ID] = accountIDs[m.Account]
	}
	for _, m := range out.Meetings {
		var act struct {
			Notes *crm.Notes `json:"notes"`
		}
		if err := c.get("/v1/activities/"+m.Activity, &act); err != nil {
			return nil, err
		}
		if act.Notes == nil {
			return nil, fmt.Errorf("quality: meeting %s has no notes", m.ID)
		}
		out.Notes[m.ID] = *act.Notes
		var tr struct {
			Segments []crm.Segment `json:"segments"`
		}
		if err := c.get("/v1/transcripts/"+m.Transcript+"?include=segments", &tr); err != nil {
			return nil, err
		}
		out.Segments[m.ID] = tr.Segments
	}

	// Search and answers, each question scoped to its team's account.
	var questions []quality.RetrievalQuery
	for _, qq := range ds.Retrieval {
		if _, ok := out.AccountOf[qq.MeetingID]; ok {
			questions = append(questions, qq)
		}
	}
	out.Questions = questions
	svc, err := a.RetrievalService()
	if err != nil {
		return nil, err
	}
	for _, mode := range []retrieval.Mode{retrieval.Hybrid, retrieval.VectorOnly, retrieval.TextOnly} {
		out.Search[mode.String()] = quality.Run{}
	}
	if len(out.Meetings) > 0 {
		out.Model = out.Notes[out.Meetings[0].ID].Model + " (notes and answers), " + svc.EmbedModel() + " (embeddings)"
	}
	for i, qq := range questions {
		acct := out.AccountOf[qq.MeetingID]
		var res struct {
			Items []struct {
				ActivityID string `json:"activity_id"`
				StartMS    *int64 `json:"start_ms"`
				EndMS      *int64 `json:"end_ms"`
			} `json:"items"`
		}
		if err := c.get("/v1/accounts/"+acct+"/search?limit=10&q="+url.QueryEscape(qq.Query), &res); err != nil {
			return nil, err
		}
		items := []quality.Item{}
		for _, it := range res.Items {
			if it.StartMS != nil && it.EndMS != nil {
				items = append(items, quality.TimeItem(out.MeetingOf[it.ActivityID], *it.StartMS, *it.EndMS))
			}
		}
		out.Search[retrieval.Hybrid.String()][qq.QID] = items
		for _, mode := range []retrieval.Mode{retrieval.VectorOnly, retrieval.TextOnly} {
			hits, err := svc.Search(ctx, retrieval.Question{OrgID: orgID, AccountID: acct, Text: qq.Query}, mode, 10)
			if err != nil {
				return nil, err
			}
			out.Search[mode.String()][qq.QID] = hitItems(hits, out.MeetingOf)
		}
		var ans retrieval.Answer
		if err := c.post("/v1/accounts/"+acct+"/ask", map[string]string{"question": qq.Query}, &ans, http.StatusOK); err != nil {
			return nil, err
		}
		out.Answers[qq.QID] = ans
		if (i+1)%25 == 0 || i+1 == len(questions) {
			say("searched and asked %d/%d questions", i+1, len(questions))
		}
	}
	for _, acct := range accounts {
		for _, question := range unanswerableQuestions(ds, ds.Accounts[acct]) {
			var ans retrieval.Answer
			if err := c.post("/v1/accounts/"+accountIDs[acct]+"/ask", map[string]string{"question": question}, &ans, http.StatusOK); err != nil {
				return nil, err
			}
			out.Unanswerable = append(out.Unanswerable, unanswered{Account: acct, Question: question, Answer: ans})
		}
	}
	return out, nil
}

// unanswered is a question nothing on record answers, and what Logbook
// said to it.
type unanswered struct {
	Account, Question string
	Answer            retrieval.Answer
}

// offTopicQuestions are questions a sales team asks about an account's
// history. They are written without the dev set in view; each is asked of
// an account only when none of its content words occurs in the account's
// meetings, which makes it unanswerable there on any data.
var offTopicQuestions = []string{
	"What did we promise about the data processing agreement?",
	"Who signed the purchase order for the renewal?",
	"When does their SOC 2 audit finish?",
	"What did legal say about indemnification?",
	"Which CRM integration did procurement approve?",
	"What discount did we offer on the multi-year subscription?",
	"Who is their Salesforce administrator?",
	"What did they say about moving the Tokyo office?",
}

// unanswerableQuestions returns the off-topic questions none of whose
// content words (stemmed) occurs in the given meetings.
func unanswerableQuestions(ds *quality.DevSet, meetings []string) []string {
	seen := map[string]bool{}
	for _, id := range meetings {
		m, _ := ds.Meeting(id)
		for _, t := range m.Turns {
			for _, w := range retrieval.QueryTerms(t.Content) {
				seen[w] = true
			}
		}
	}
	var out []string
	for _, q := range offTopicQuestions {
		if !slices.ContainsFunc(retrieval.QueryTerms(q), func(w string) bool { return seen[w] }) {
			out = append(out, q)
		}
	}
	return out
}

// seededSearch embeds the loop's chunks again with the local embedder under
// each seed and runs every search method on every question under it, so
// that a comparison of methods rests on the method and not on one set of
// hash collisions. It returns each method's run per seed.
func seededSearch(ctx context.Context, a *app.App, c *qualityCollected, seeds []uint64, progress io.Writer) ([]map[string]quality.Run, error) {
	st := store.New(a.Pool)
	var out []map[string]quality.Run
	for _, seed := range seeds {
		p := local.NewWithSeed(a.Cfg.EmbedDim, seed)
		svc, err := retrieval.New(retrieval.Config{Store: st, Embedder: p, Completer: p, EmbedModel: p.Model(),
			MinSimilarity: a.Cfg.MinSimilarity, EfSearch: a.Cfg.EfSearch, VectorWeight: a.Cfg.VectorWeight})
		if err != nil {
			return nil, err
		}
		r := app.Reindexer{Store: st, Service: svc, OrgID: c.OrgID, Batch: 256, Out: io.Discard}
		if err := r.Run(ctx); err != nil {
			return nil, err
		}
		runs := map[string]quality.Run{}
		for _, mode := range []retrieval.Mode{retrieval.Hybrid, retrieval.VectorOnly, retrieval.TextOnly} {
			run := quality.Run{}
			for _, qq := range c.Questions {
				hits, err := svc.Search(ctx, retrieval.Question{OrgID: c.OrgID, AccountID: c.AccountOf[qq.MeetingID], Text: qq.Query}, mode, 10)
				if err != nil {
					return nil, err
				}
				run[qq.QID] = hitItems(hits, c.MeetingOf)
			}
			runs[mode.String()] = run
		}
		out = append(out, runs)
		if progress != nil {
			fmt.Fprintf(progress, "quality: searched again with embedder seed %d (%s)\n", seed, p.Model())
		}
	}
	return out, nil
}

// transcriptAcceptedJSON is POST /v1/transcripts' answer.
type transcriptAcceptedJSON struct {
	ID         string `json:"id"`
	ActivityID string `json:"activity_id"`
	Status     string `json:"status"`
}

// hitItems turns search hits into run items (transcript chunks only: a
// notes or email chunk has no span of the meeting to score).
func hitItems(hits []retrieval.Hit, byActivity map[string]string) []quality.Item {
	items := []quality.Item{}
	for _, h := range hits {
		if h.StartMS == nil || h.EndMS == nil {
			continue
		}
		items = append(items, quality.TimeItem(byActivity[h.ActivityID], *h.StartMS, *h.EndMS))
	}
	return items
}

// waitProcessed polls the transcripts' statuses until every one is done,
// and fails when one failed or none moved for five minutes.
func waitProcessed(ctx context.Context, c *qualityClient, ms []qualityMeeting, say func(string, ...any)) error {
	last, lastChange := -1, time.Now()
	for {
		done := 0
		for _, m := range ms {
			var t struct {
				Status string  `json:"status"`
				Error  *string `json:"error"`
			}
			if err := c.get("/v1/transcripts/"+m.Transcript, &t); err != nil {
				return err
			}
			switch t.Status {
			case "done":
				done++
			case "failed":
				reason := ""
				if t.Error != nil {
					reason = *t.Error
				}
				return fmt.Errorf("quality: meeting %s failed: %s", m.ID, reason)
			}
		}
		if done != last {
			say("%d/%d meetings processed", done, len(ms))
			last, lastChange = done, time.Now()
		}
		if done == len(ms) {
			return nil
		}
		if time.Since(lastChange) > 5*time.Minute {
			return fmt.Errorf("quality: %d of %d meetings unprocessed after five minutes without progress", len(ms)-done, len(ms))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeQualityRuns writes what the loop collected as the shared scorers'
// input files into dir, so any figure can be checked with them
// (QUALITY.md says how).
func writeQualityRuns(dir string, ds *quality.DevSet, c *qualityCollected) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var notes, sums []any
	for _, m := range c.Meetings {
		notes = append(notes, map[string]any{"meeting_id": m.ID, "notes": c.Notes[m.ID]})
		for _, sq := range ds.Summaries {
			if sq.MeetingID == m.ID {
				sums = append(sums, map[string]any{"qid": sq.QID, "summary": c.Notes[m.ID].Summary})
			}
		}
	}
	files := map[string][]any{"notes.jsonl": notes, "summaries.jsonl": sums}
	for mode, run := range c.Search {
		files["search-"+mode+".jsonl"] = runLines(run)
	}
	files["answers.jsonl"] = runLines(c.answerRun())
	var asked []any
	for _, qq := range c.Questions {
		asked = append(asked, map[string]any{"qid": qq.QID, "question": qq.Query, "answer": c.Answers[qq.QID]})
	}
	for _, u := range c.Unanswerable {
		asked = append(asked, map[string]any{"account": u.Account, "question": u.Question, "answer": u.Answer})
	}
	files["answers-full.jsonl"] = asked
	for name, lines := range files {
		var b strings.Builder
		for _, l := range lines {
			j, err := json.Marshal(l)
			if err != nil {
				return err
			}
			b.Write(j)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// runLines is a run in the scorers' JSON-lines form, in question order.
func runLines(run quality.Run) []any {
	qids := make([]string, 0, len(run))
	for qid := range run {
		qids = append(qids, qid)
	}
	slices.Sort(qids)
	lines := make([]any, 0, len(qids))
	for _, qid := range qids {
		items := run[qid]
		if items == nil {
			items = []quality.Item{}
		}
		lines = append(lines, map[string]any{"qid": qid, "retrieved": items})
	}
	return lines
}

// answerRun is the answers' citations as a run, in citation order: each
// covers the span of the transcript line its quote is in.
func (c *qualityCollected) answerRun() quality.Run {
	run := quality.Run{}
	for qid, a := range c.Answers {
		items := []quality.Item{}
		for _, cit := range a.Citations {
			mid, ok := c.MeetingOf[cit.ActivityID]
			if !ok || cit.StartMS == nil {
				continue
			}
			start := int64(*cit.StartMS)
			end := start + 1
			if cit.EndMS != nil && int64(*cit.EndMS) > start {
				end = int64(*cit.EndMS)
			}
			items = append(items, quality.TimeItem(mid, start, end))
		}
		run[qid] = items
	}
	return run
}

// cmdQuality is `logbook-bench quality`: the quality loop on the dev set.
func cmdQuality(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlagSet("quality", "The quality loop: the dev set's real meetings through the API and worker (in this process, on a\ndatabase of its own), notes, search and answers scored (QUALITY.md).", stderr)
	data := fs.String("data", filepath.Join("..", "shared", "quality"), "the dev set: the folder of qmsum-val/ and ami-val-labels.json")
	only := fs.String("accounts", "", "comma-separated account keys to run (default: all of the set's accounts)")
	outDir := fs.String("out", "", "also write the runs (notes, summaries, search, answers) here as the shared scorers' input files")
	dbName := fs.String("db", "logbook_quality", "database to create afresh and use")
	seedList := fs.String("seeds", "", "comma-separated local embedder seeds to run every search method under again and average (local provider only), e.g. 1,2,3")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	seeds, err := parseSeeds(*seedList)
	if err != nil {
		return err
	}
	ds, err := quality.LoadDevSet(*data)
	if err != nil {
		return fmt.Errorf("quality: %w (pass -data, the folder of the shared quality set)", err)
	}
	accounts, err := pickAccounts(ds, *only)
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if len(seeds) > 0 && cfg.LLMProvider != "local" {
		return usageError{Msg: "-seeds applies to the local embedder only (LLM_PROVIDER=local)"}
	}
	dbURL, err := freshDatabase(ctx, cfg.DatabaseURL, *dbName)
	if err != nil {
		return err
	}
	if err := setEmbedDim(ctx, dbURL, cfg.EmbedDim); err != nil {
		return err
	}
	env := func(k string) string {
		switch {
		case k == "DATABASE_URL":
			return dbURL
		case k == "LOG_LEVEL" && getenv(k) == "":
			return "error"
		}
		return getenv(k)
	}
	a, err := openApp(ctx, stderr, env)
	if err != nil {
		return err
	}
	defer a.Close()
	start := time.Now()
	c, err := collectQuality(ctx, a, ds, accounts, stderr)
	if err != nil {
		return err
	}
	if *outDir != "" {
		if err := writeQualityRuns(*outDir, ds, c); err != nil {
			return err
		}
	}
	seeded, err := seededSearch(ctx, a, c, seeds, stderr)
	if err != nil {
		return err
	}
	r, err := scoreQuality(ds, accounts, c, seeds, seeded)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "command: logbook-bench quality %s (%s)\n\n", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	printQuality(stdout, r, c.Model)
	return nil
}

// setEmbedDim gives a fresh database's chunks table EMBED_DIM's dimension
// (the migrations make it config.DefaultEmbedDim), so the loop runs with
// any embedding model and no reindex.
func setEmbedDim(ctx context.Context, dbURL string, dim int) error {
	pool, err := store.Connect(ctx, dbURL, store.PoolConfig{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	cur, err := st.EmbeddingDim(ctx)
	if err != nil {
		return err
	}
	if cur == dim {
		return nil
	}
	return st.SetEmbeddingDim(ctx, dim)
}

// parseSeeds reads -seeds.
func parseSeeds(list string) ([]uint64, error) {
	var seeds []uint64
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return nil, usageError{Msg: fmt.Sprintf("-seeds: %q is not a seed (a whole number)", f)}
		}
		seeds = append(seeds, n)
	}
	return seeds, nil
}

// pickAccounts returns the account keys a comma-separated list names, checked
// against the set, or all of them in order when the list is empty.
func pickAccounts(ds *quality.DevSet, list string) ([]string, error) {
	all := ds.AccountIDs()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	var out []string
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		if !slices.Contains(all, k) {
			return nil, usageError{Msg: fmt.Sprintf("-accounts: %q is not an account of the set (%s)", k, strings.Join(all, ", "))}
		}
		out = append(out, k)
	}
	return out, nil
}
