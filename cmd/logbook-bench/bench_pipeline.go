package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"logbook/activity"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"logbook/api"
	"logbook/internal/app"
	"logbook/internal/crm"
	"logbook/internal/llm"
	"logbook/internal/llm/local"
	"logbook/internal/llm/openai"
	"logbook/internal/queue"
	"logbook/internal/store"
	"logbook/internal/transcript"
	"logbook/summarize"
	"logbook/worker"
)

// benchPipeline measures issue #3's figures: one-hour transcripts per minute
// end to end (HTTP ingest → PostgreSQL → Redis/Asynq → worker → notes
// written), with the offline local provider and with an instant fake
// OpenAI-compatible model (the pipeline's own ceiling), beside a baseline of
// parse + summarize alone in the same process; and the pipeline's own time
// per transcript with the model's time taken out.
func benchPipeline(ctx context.Context, w io.Writer, pool *pgxpool.Pool, rdb *redis.Client, n, concurrency int) error {
	st := store.New(pool)
	meetings := benchMeetings(n)
	words := len(strings.Fields(meetings[0]))
	segs, err := transcript.Parse("vtt", []byte(meetings[0]))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Transcript pipeline (%d one-hour transcripts per run: %d segments, %d words each; worker concurrency %d; %d CPUs)\n\n",
		n, len(segs), words, concurrency, runtime.NumCPU())

	// Baseline: parse + summarize in process, no HTTP, no database, no queue.
	base, err := benchSummarizeOnly(ctx, meetings, local.New(256))
	if err != nil {
		return err
	}

	fake := newInstantModel()
	defer fake.Close()
	fakeProvider, err := openai.New(openai.Config{APIKey: "bench", BaseURL: fake.URL + "/v1", ChatModel: "instant",
		EmbedModel: "instant-embed", EmbedDim: 256})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "| path | transcripts/min | vs baseline |")
	fmt.Fprintln(w, "|---|---:|---:|")
	fmt.Fprintf(w, "| parse + summarize only, local provider, %d goroutines (baseline) | %.0f | 1.00 |\n", runtime.NumCPU(), base)
	var e2eInstant float64
	for _, c := range []struct {
		name string
		c    llm.Completer
	}{{"local provider", local.New(256)}, {"instant fake model (OpenAI-compatible HTTP)", fakeProvider}} {
		rate, err := benchEndToEnd(ctx, st, pool, rdb, meetings, c.c, concurrency)
		if err != nil {
			return fmt.Errorf("bench %s: %w", c.name, err)
		}
		if c.c == llm.Completer(fakeProvider) {
			e2eInstant = rate
		}
		fmt.Fprintf(w, "| end to end through HTTP, PostgreSQL, Redis and the worker, %s | %.0f | %.2f |\n", c.name, rate, rate/base)
	}

	over, err := benchOverhead(ctx, st, pool, rdb, meetings[:min(len(meetings), 40)], fakeProvider)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nPipeline time per transcript with the model's time taken out (instant fake model, %d transcripts one at a time, "+
		"claim → summarize and validate → write notes): p50 %s, p99 %s.\n\n", over.n, ms(over.p50), ms(over.p99))
	fmt.Fprintf(w, "Goals: ≥ 300 one-hour transcripts/min end to end with the instant model (%s, %.0f); pipeline overhead < 100 ms per transcript (%s).\n\n",
		verdict(e2eInstant >= 300), e2eInstant, verdict(over.p99 < 100*time.Millisecond))
	return nil
}

// benchMeetings makes n distinct one-hour meetings as Zoom VTT: the sample
// QBR's turns repeated with shifted times and varied numbers, so each has
// its own content hash.
func benchMeetings(n int) []string {
	speakers := []string{"Maya Patel", "Dana Lee", "Jon Okafor", "Sam Ortiz", "Wei Zhang"}
	lines := []string{
		"Thanks everyone for joining, let's go through the renewal and the rollout plan for the %d new seats.",
		"Sure. Our main concern is that SSO with Okta isn't ready, and we can't roll out to %d people without it.",
		"Understood. I'll send the Okta setup guide by Friday, and the SOC 2 report with it.",
		"We agreed to start the pilot on March %d with fifty seats in the Memphis warehouse.",
		"Dana, can you send over the list of pilot users by March 10?",
		"Yes, I will send the user list by March 10. I might be able to get legal to review the contract next week.",
		"The budget freeze in Q3 is a risk we should plan around, so signing by the end of May matters.",
		"Adoption is up %d percent since January, mostly from the dispatch teams using the mobile app.",
		"Can we get a breakdown by site? The Atlanta numbers look low compared to last quarter.",
		"I'll pull that together and add it to Friday's package, broken down by site and by role.",
	}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		b.WriteString("WEBVTT\n\n")
		t := 0
		for k := 0; t < 3600_000; k++ {
			text := lines[k%len(lines)]
			if strings.Contains(text, "%d") {
				text = fmt.Sprintf(text, 10+(i*7+k)%90)
			}
			d := 3000 + len(text)*45
			fmt.Fprintf(&b, "%d\n%s --> %s\n%s: %s\n\n", k+1, vttTime(t), vttTime(t+d), speakers[k%len(speakers)], text)
			t += d + 200
		}
		out[i] = b.String()
	}
	return out
}

func vttTime(ms int) string {
	return fmt.Sprintf("%02d:%02d:%02d.%03d", ms/3600000, ms/60000%60, ms/1000%60, ms%1000)
}

func benchSummarizeOnly(ctx context.Context, meetings []string, c llm.Completer) (float64, error) {
	sum := summarize.New(c, summarize.Config{})
	d, err := parallelRun(ctx, 0, len(meetings), runtime.NumCPU(), func(ctx context.Context, i int) error {
		segs, err := transcript.Parse("vtt", []byte(meetings[i]))
		if err != nil {
			return err
		}
		_, err = sum.Notes(ctx, summarize.Meeting{Title: "Bench", Date: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), Segments: segs})
		return err
	})
	return float64(len(meetings)) / d.Minutes(), err
}

// benchEndToEnd posts every meeting through HTTP to a Logbook with a
// running worker and waits until all are done.
func benchEndToEnd(ctx context.Context, st *store.Store, pool *pgxpool.Pool, rdb *redis.Client, meetings []string, c llm.Completer, concurrency int) (float64, error) {
	orgID, key, err := app.CreateOrg(ctx, st, "bench pipeline")
	if err != nil {
		return 0, err
	}
	if _, err := st.AccountCreate(ctx, orgID, crm.AccountInput{Name: crm.Some("Acme"), Domains: crm.Some([]string{"acme-logistics.example"})}); err != nil {
		return 0, err
	}
	prefix := fmt.Sprintf("bench-%d-%d-", os.Getpid(), time.Now().UnixNano())
	q := queue.Queues{LLM: prefix + "llm", Default: prefix + "default"}
	enq := queue.NewEnqueuer(rdb, q)
	defer enq.Close()
	defer func() { _ = queue.NewInspector(rdb).DeleteQueues(q) }()
	wk, err := worker.New(worker.Config{Store: st, Summarizer: summarize.New(c, summarize.Config{}), Redis: rdb, Enqueuer: enq,
		Queues: q, LLMConcurrency: concurrency})
	if err != nil {
		return 0, err
	}
	h, err := api.NewHandler(api.Deps{Store: st, Enqueuer: enq})
	if err != nil {
		return 0, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- wk.Run(runCtx, 10*time.Second) }()
	defer func() { stop(); <-done }()

	client := &http.Client{Timeout: time.Minute}
	base := "http://" + ln.Addr().String()
	participants := []crm.Participant{{Name: "Dana Lee", Email: "dana.lee@acme-logistics.example"}, {Name: "Maya Patel", Email: "maya.patel@northwind.example"}}
	start := time.Now()
	if _, err := parallelRun(ctx, 0, len(meetings), 4, func(ctx context.Context, i int) error {
		return app.PostJSON(ctx, client, base+"/v1/transcripts", key, map[string]any{
			"source": "zoom", "external_id": fmt.Sprintf("bench-%d", i), "title": "Acme weekly", "started_at": "2026-03-04T15:00:00Z",
			"participants": participants, "format": "vtt", "content": meetings[i]}, nil, http.StatusAccepted)
	}); err != nil {
		return 0, err
	}
	for {
		var doneN, failed int
		if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'done'), count(*) FILTER (WHERE status = 'failed')
			FROM transcripts WHERE org_id = $1`, orgID).Scan(&doneN, &failed); err != nil {
			return 0, err
		}
		if failed > 0 {
			return 0, fmt.Errorf("%d transcripts failed", failed)
		}
		if doneN == len(meetings) {
			return float64(len(meetings)) / time.Since(start).Minutes(), nil
		}
		if time.Since(start) > 10*time.Minute {
			return 0, fmt.Errorf("only %d of %d done after 10 minutes", doneN, len(meetings))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type overhead struct {
	n        int
	p50, p99 time.Duration
}

// timedCompleter adds up the time spent waiting on the model.
type timedCompleter struct {
	c     llm.Completer
	spent atomic.Int64
}

func (t *timedCompleter) Complete(ctx context.Context, r llm.CompletionRequest) (llm.Completion, error) {
	start := time.Now()
	res, err := t.c.Complete(ctx, r)
	t.spent.Add(int64(time.Since(start)))
	return res, err
}

// benchOverhead runs the transcript handler directly, one transcript at a
// time, and subtracts the time spent in model calls.
func benchOverhead(ctx context.Context, st *store.Store, pool *pgxpool.Pool, rdb *redis.Client, meetings []string, c llm.Completer) (overhead, error) {
	orgID, _, err := app.CreateOrg(ctx, st, "bench overhead")
	if err != nil {
		return overhead{}, err
	}
	acct, err := st.AccountCreate(ctx, orgID, crm.AccountInput{Name: crm.Some("Acme")})
	if err != nil {
		return overhead{}, err
	}
	tc := &timedCompleter{c: c}
	q := queue.Queues{LLM: "bench-unused-llm", Default: "bench-unused-default"}
	enq := queue.NewEnqueuer(rdb, q)
	defer enq.Close()
	wk, err := worker.New(worker.Config{Store: st, Summarizer: summarize.New(tc, summarize.Config{}), Redis: rdb, Enqueuer: enq, Queues: q})
	if err != nil {
		return overhead{}, err
	}
	var ds []time.Duration
	for i, m := range meetings {
		segs, err := transcript.Parse("vtt", []byte(m))
		if err != nil {
			return overhead{}, err
		}
		ext := fmt.Sprintf("ovh-%d", i)
		ing, err := activity.New(st).IngestTranscript(ctx, orgID, store.TranscriptIngest{Source: "zoom", ExternalID: &ext, Title: "Bench",
			StartedAt: time.Date(2026, 3, 4, 15, 0, 0, 0, time.UTC), Format: "vtt", Content: m, Segments: segs,
			Meeting: crm.ActivityInput{Type: crm.Some(crm.ActivityMeeting), AccountID: crm.Some(acct.ID),
				OccurredAt: crm.Some("2026-03-04T15:00:00Z"), Source: crm.Some(crm.SourceNotetaker), ExternalID: crm.Some("zoom:" + ext)}})
		if err != nil {
			return overhead{}, err
		}
		task, err := queue.NewTranscriptProcessTask(queue.TranscriptPayload{OrgID: orgID, TranscriptID: ing.Transcript.ID})
		if err != nil {
			return overhead{}, err
		}
		before := tc.spent.Load()
		start := time.Now()
		if err := wk.HandleTranscriptProcess(ctx, task); err != nil {
			return overhead{}, err
		}
		ds = append(ds, time.Since(start)-time.Duration(tc.spent.Load()-before))
	}
	slices.Sort(ds)
	return overhead{n: len(ds), p50: ds[len(ds)/2], p99: ds[min(len(ds)-1, len(ds)*99/100)]}, nil
}

// instantModel is an OpenAI-compatible server that answers at once: notes
// citing the first segments of the window it was given (quotes taken from
// them, so they pass validation), and a short follow-up.
type instantModel struct{ *httptest.Server }

var segLineRE = regexp.MustCompile(`(?m)^\[(\d+)\] \([^)]*\) [^:]+: (.+)$`)

func newInstantModel() *instantModel {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Messages []struct{ Content string } `json:"messages"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		var prompt strings.Builder
		for _, m := range req.Messages {
			prompt.WriteString(m.Content)
			prompt.WriteByte('\n')
		}
		content := `{"subject":"Follow-up","body":"Thanks for your time today."}`
		if ms := segLineRE.FindAllStringSubmatch(prompt.String(), 4); len(ms) > 0 && strings.Contains(prompt.String(), "<<<TRANSCRIPT") {
			var claims []llm.Claim
			var acts []llm.ActionClaim
			for _, m := range ms {
				var idx int
				fmt.Sscan(m[1], &idx)
				words := strings.Fields(m[2])
				quote := strings.Join(words[:min(6, len(words))], " ")
				claims = append(claims, llm.Claim{Text: quote, Segments: []int{idx}, Quote: quote})
				acts = append(acts, llm.ActionClaim{Text: quote, Segments: []int{idx}, Quote: quote})
			}
			b, _ := json.Marshal(llm.NotesOutput{Summary: claims[:1], KeyPoints: claims, Decisions: []llm.Claim{}, Risks: []llm.Claim{}, ActionItems: acts[:1]})
			content = string(b)
		}
		resp := map[string]any{"id": "x", "object": "chat.completion", "created": 0, "model": "instant",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": content}}},
			"usage":   map[string]any{"prompt_tokens": prompt.Len() / 4, "completion_tokens": len(content) / 4, "total_tokens": 0}}
		var buf bytes.Buffer
		_ = json.NewEncoder(&buf).Encode(resp)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(buf.Bytes())
	})
	return &instantModel{httptest.NewServer(h)}
}
