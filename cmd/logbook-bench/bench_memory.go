package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"logbook/activity"
	"logbook/internal/app"
	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/queue"
	"logbook/internal/store"
)

// memoryOpts are the flags of the memory benchmark.
type memoryOpts struct {
	serverBin string // a built logbook binary; empty builds ./cmd/logbook
	conc      int    // concurrent posts per scenario
	sizeMB    float64
	match     string // run only the scenarios whose name contains it
}

// memScenario is one burst of concurrent posts.
type memScenario struct {
	name   string
	path   string             // /v1/transcripts or /v1/hooks/transcripts
	body   func(i int) []byte // the i-th request's body
	header func(body []byte) http.Header
	want   int
}

// benchMemory measures the server's resident memory (issue #11, finding 4)
// while it is sent bursts of concurrent maximum-size transcripts: too long
// to accept (413 after parsing), over the byte limit (413 before reading),
// at the limit and accepted (202), and to the signed hook unsigned, badly
// signed and well signed. The server is a separate process (`logbook
// serve`, the binary -server-bin or one built from ./cmd/logbook), so its
// figures are its own: VmHWM (peak RSS) from /proc/PID/status, reset before
// each burst through /proc/PID/clear_refs, beside its RSS at idle in the
// same run. The goal is a peak under 300 MB.
func benchMemory(ctx context.Context, w io.Writer, cfg config.Config, dbURL string, st *store.Store, rdb redis.UniversalClient, o memoryOpts) error {
	bin := o.serverBin
	if bin == "" {
		dir, err := os.MkdirTemp("", "logbook-bench-memory")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "logbook")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "logbook/cmd/logbook")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build logbook (or pass -server-bin): %w", err)
		}
	}
	orgID, key, err := app.CreateOrg(ctx, st, "bench memory")
	if err != nil {
		return err
	}
	// The org and its 24 large transcripts go when the run ends, so runs
	// do not fill the bench database.
	defer func() {
		if _, err := st.OrgDelete(context.WithoutCancel(ctx), orgID); err != nil {
			fmt.Fprintf(os.Stderr, "bench memory: deleting the org: %v\n", err)
		}
	}()
	secret, err := st.IngestSecretRotate(ctx, orgID)
	if err != nil {
		return err
	}
	acct, err := st.AccountCreate(ctx, orgID, crm.AccountInput{Name: crm.Some("Bench memory account")})
	if err != nil {
		return err
	}
	transcriptBody := func(externalID string, content []byte) []byte { return transcriptJSON(acct.ID, externalID, content) }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return err
	}
	prefix := fmt.Sprintf("benchmem%d:", os.Getpid())
	srv := exec.CommandContext(ctx, bin, "serve")
	srv.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "REDIS_URL="+cfg.RedisURL, "HTTP_ADDR="+addr,
		"QUEUE_PREFIX="+prefix, "LOG_LEVEL=error",
		// Every post of a burst waits its turn rather than some getting a
		// 503, so each burst measures all of them in memory.
		"TRANSCRIPT_PARSE_WAIT=5m")
	srv.Stdout, srv.Stderr = os.Stderr, os.Stderr
	if err := srv.Start(); err != nil {
		return fmt.Errorf("start %s serve: %w", bin, err)
	}
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		_ = srv.Wait()
		q := queue.Queues{LLM: prefix + queue.DefaultQueues.LLM, Default: prefix + queue.DefaultQueues.Default}
		if err := queue.NewInspector(rdb).DeleteQueues(q); err != nil {
			fmt.Fprintf(os.Stderr, "bench memory: removing the queues %s*: %v\n", prefix, err)
		}
	}()
	pid := srv.Process.Pid
	base := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.conc}}
	if err := waitHealthy(ctx, client, base); err != nil {
		return err
	}

	size := int(o.sizeMB * 1e6)
	tooLong := transcriptBody("too-long", vttManyWords(size))
	atLimit := vttFewWords(size)
	overLimit := transcriptBody("over-limit", vttManyWords(activity.MaxTranscriptBytes+1<<20))
	accepted := func(tag string) func(i int) []byte {
		return func(i int) []byte { return transcriptBody(fmt.Sprintf("%s-%d", tag, i), atLimit) }
	}
	same := func(b []byte) func(int) []byte { return func(int) []byte { return b } }
	keyed := func([]byte) http.Header { return http.Header{"Authorization": {"Bearer " + key}} }
	hook := func(sig func(body []byte) string) func([]byte) http.Header {
		return func(body []byte) http.Header {
			h := http.Header{"Logbook-Org": {orgID}}
			if s := sig(body); s != "" {
				h.Set(crm.SignatureHeader, s)
			}
			return h
		}
	}
	unsigned := func([]byte) string { return "" }
	badSig := func(body []byte) string { return crm.Sign("not the secret", time.Now(), body) }
	goodSig := func(body []byte) string { return crm.Sign(secret, time.Now(), body) }
	scenarios := []memScenario{
		{"POST /v1/transcripts, over the word limit (the finding)", "/v1/transcripts", same(tooLong), keyed, 413},
		{"POST /v1/transcripts, over the byte limit", "/v1/transcripts", same(overLimit), keyed, 413},
		{"POST /v1/transcripts, at the limit, accepted", "/v1/transcripts", accepted("keyed"), keyed, 202},
		{"POST /v1/hooks/transcripts, unsigned", "/v1/hooks/transcripts", same(tooLong), hook(unsigned), 401},
		{"POST /v1/hooks/transcripts, badly signed", "/v1/hooks/transcripts", same(tooLong), hook(badSig), 401},
		{"POST /v1/hooks/transcripts, signed, at the limit, accepted", "/v1/hooks/transcripts", accepted("hook"), hook(goodSig), 202},
	}

	// Warm up: one small post of each kind, then the idle baseline.
	for _, sc := range []memScenario{scenarios[2], scenarios[5]} {
		small := transcriptBody("warm-up "+sc.path, vttFewWords(20_000))
		if st, detail, err := post(ctx, client, base+sc.path, small, sc.header(small)); err != nil || st != 202 {
			return fmt.Errorf("warm-up %s: status %d: %v %s", sc.path, st, err, detail)
		}
	}
	time.Sleep(time.Second)
	idle, err := procStatus(pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "## Memory (the server process under %d concurrent posts of %.1f MB transcripts)\n\n", o.conc, o.sizeMB)
	fmt.Fprintf(w, "Server: %s serve (pid %d). Idle after warm-up (baseline): RSS %s, peak so far %s.\n\n",
		filepath.Base(bin), pid, mb(idle.rss), mb(idle.hwm))
	fmt.Fprintln(w, "| scenario | statuses | RSS before | peak RSS | peak vs idle | wall |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|")
	var peak int64
	for _, sc := range scenarios {
		if !strings.Contains(sc.name, o.match) {
			continue
		}
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			return fmt.Errorf("reset the server's peak RSS: %w", err)
		}
		before, err := procStatus(pid)
		if err != nil {
			return err
		}
		statuses, d, err := burst(ctx, client, base, sc, o.conc)
		if err != nil {
			return fmt.Errorf("%s: %w", sc.name, err)
		}
		after, err := procStatus(pid)
		if err != nil {
			return err
		}
		peak = max(peak, after.hwm)
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.1f× | %s |\n", sc.name, statuses, mb(before.rss), mb(after.hwm),
			float64(after.hwm)/float64(idle.rss), d.Round(10*time.Millisecond))
		time.Sleep(2 * time.Second)
	}
	fmt.Fprintf(w, "\nGoal: peak RSS under 300 MB in every scenario (%s: highest %s, idle %s).\n\n",
		verdict(peak < 300e6), mb(peak), mb(idle.rss))
	return nil
}

// burst sends conc requests of sc at once and returns the statuses seen
// (status×count) and how long the burst took. A status other than sc.want
// is reported, not an error; a request that fails outright is.
func burst(ctx context.Context, client *http.Client, base string, sc memScenario, conc int) (string, time.Duration, error) {
	bodies := make([][]byte, conc)
	headers := make([]http.Header, conc)
	for i := range bodies {
		bodies[i] = sc.body(i)
		headers[i] = sc.header(bodies[i])
	}
	counts := map[int]int{}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, detail, err := post(ctx, client, base+sc.path, bodies[i], headers[i])
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			counts[status]++
			if status != sc.want && counts[status] == 1 {
				fmt.Fprintf(os.Stderr, "%s: status %d (want %d): %s\n", sc.name, status, sc.want, detail)
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if firstErr != nil {
		return "", d, firstErr
	}
	var parts []string
	for st := 100; st < 600; st++ {
		if n := counts[st]; n > 0 {
			mark := ""
			if st != sc.want {
				mark = " (want " + strconv.Itoa(sc.want) + ")"
			}
			parts = append(parts, fmt.Sprintf("%d×%d%s", st, n, mark))
		}
	}
	return strings.Join(parts, ", "), d, nil
}

// post sends one JSON body and returns the status and the start of the
// answer.
func post(ctx context.Context, client *http.Client, u string, body []byte, h http.Header) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1000))
	if err != nil {
		return 0, "", err
	}
	return res.StatusCode, string(b), nil
}

func waitHealthy(ctx context.Context, client *http.Client, base string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/healthz", nil)
		if err != nil {
			return err
		}
		res, err := client.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server at %s is not healthy after 30s: %v", base, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// memStatus is a process's resident memory: now and the peak.
type memStatus struct{ rss, hwm int64 }

// procStatus reads VmRSS and VmHWM (bytes) from /proc/PID/status.
func procStatus(pid int) (memStatus, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memStatus{}, err
	}
	defer f.Close()
	var m memStatus
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *int64
		switch k {
		case "VmRSS":
			dst = &m.rss
		case "VmHWM":
			dst = &m.hwm
		default:
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return memStatus{}, fmt.Errorf("parse %s %q: %w", k, v, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return memStatus{}, err
	}
	if m.rss == 0 || m.hwm == 0 {
		return memStatus{}, errors.New("no VmRSS/VmHWM in /proc/PID/status")
	}
	return m, nil
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// transcriptJSON is a POST /v1/transcripts body carrying content as WebVTT.
func transcriptJSON(accountID, externalID string, content []byte) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // as most clients write JSON: "<v Dana>" stays as it is
	err := enc.Encode(map[string]any{
		"source": "bench", "external_id": externalID, "account_id": accountID, "title": "Memory bench", "format": "vtt",
		"started_at": "2026-01-05T15:00:00Z", "content": string(content),
	})
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return b.Bytes()
}

// vttManyWords is about size bytes of an ordinary WebVTT meeting (two
// speakers, short cues): far more words than transcript.MaxWords.
func vttManyWords(size int) []byte {
	lines := []string{
		"We should look at the rollout plan again before the pilot starts next week.",
		"I'll send the security questionnaire to your team by Friday afternoon.",
		"Pricing depends on seats, so let's confirm the number with procurement first.",
	}
	speakers := []string{"Dana Lee", "Maya Patel"}
	var b bytes.Buffer
	b.Grow(size + 200)
	b.WriteString("WEBVTT\n\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%d\n%s --> %s\n<v %s>%s\n\n", i+1, vttTime(i*3000), vttTime(i*3000+2900),
			speakers[i%2], lines[i%len(lines)])
	}
	return b.Bytes()
}

// vttFewWords is about size bytes of WebVTT that stays within
// transcript.MaxWords and MaxSegments: 19,000 cues of three long tokens
// (each cue its own segment), so the server accepts it.
func vttFewWords(size int) []byte {
	const cues = 19000
	per := max(size/cues, 60)
	wordLen := max((per-40)/3, 1)
	var b bytes.Buffer
	b.Grow(size + 1000)
	b.WriteString("WEBVTT\n\n")
	word := func(i, j int) string {
		s := strings.Repeat(string(rune('a'+(i+j)%26)), wordLen)
		return s
	}
	for i := 0; i < cues && b.Len() < size; i++ {
		fmt.Fprintf(&b, "%s --> %s\n%s %s %s\n\n", vttTime(i*3000), vttTime(i*3000+2900), word(i, 0), word(i, 1), word(i, 2))
	}
	return b.Bytes()
}
