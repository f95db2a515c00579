package retrievalbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"logbook/internal/llm/local"
	"logbook/internal/store"
	"logbook/retrieval"
)

// The worker memory curve of the retrieval bench.

type rssSample struct {
	Transcripts int
	RSS, HWM    int64 // bytes
	HeapInuse   uint64
}

// procStatus reads VmRSS and VmHWM of this process.
func procStatus() (rss, hwm int64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n * 1024
		case "VmHWM:":
			hwm = n * 1024
		}
	}
	return rss, hwm
}

// benchRetrievalRSS indexes o.transcripts generated one-hour transcripts
// one at a time, as the worker does (chunk with retrieval.ChunkTranscript,
// embed with the local embedder, COPY the activity and its chunks), and
// samples the process's RSS along the way.
func benchRetrievalRSS(ctx context.Context, w io.Writer, pool *pgxpool.Pool, gen *textModel, emb *local.Provider, model string,
	o *Options) ([]rssSample, error) {
	st := store.New(pool)
	org, err := st.OrgCreate(ctx, "bench retrieval rss")
	if err != nil {
		return nil, err
	}
	// Bulk mode, as in the main load: incremental HNSW and GIN upkeep is
	// the database's cost, not the worker's memory.
	if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS chunks_tsv, chunks_embedding_hnsw`); err != nil {
		return nil, err
	}
	if dim, err := st.EmbeddingDim(ctx); err != nil {
		return nil, err
	} else if dim != o.dim {
		if err := st.SetEmbeddingDim(ctx, o.dim); err != nil {
			return nil, err
		}
		if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS chunks_embedding_hnsw`); err != nil {
			return nil, err
		}
	}
	const nAccounts = 100
	accts := make([]string, nAccounts)
	topics := make([][]int, nAccounts)
	rng := rand.New(rand.NewPCG(o.seed, 9))
	for i := range accts {
		accts[i] = store.NewID()
		if _, err := pool.Exec(ctx, `INSERT INTO accounts (org_id, id, name) VALUES ($1, $2, $3)`, org.ID, accts[i], fmt.Sprintf("rss-%03d", i)); err != nil {
			return nil, err
		}
		topics[i] = []int{rng.IntN(benchTopics), rng.IntN(benchTopics), rng.IntN(benchTopics)}
	}
	weights := []float64{1, 1, 1}
	marks := map[int]bool{1: true} // after the first transcript, then every tenth of the run
	for k := 1; k <= 10; k++ {
		marks[k*o.transcripts/10] = true
	}
	var samples []rssSample
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	chunks, segments := 0, 0
	for i := 1; i <= o.transcripts; i++ {
		a := i % nAccounts
		segs := gen.transcript(topics[a], weights, o.seed<<32+uint64(i))
		segments += len(segs)
		cs := retrieval.ChunkTranscript(segs)
		texts := make([]string, len(cs))
		for k := range cs {
			texts[k] = cs[k].Text
		}
		vecs, err := emb.Embed(ctx, texts)
		if err != nil {
			return nil, err
		}
		for k := range cs {
			cs[k].Embedding = vecs[k]
		}
		act, rows, err := transcriptRows(org.ID, accts[a], base.Add(time.Duration(i)*time.Hour), cs, model)
		if err != nil {
			return nil, err
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"activities"}, activityColumnsCopy, pgx.CopyFromRows([][]any{act})); err != nil {
			return nil, err
		}
		if _, err := pool.CopyFrom(ctx, pgx.Identifier{"chunks"}, chunkColumnsCopy, pgx.CopyFromRows(rows)); err != nil {
			return nil, err
		}
		chunks += len(cs)
		if marks[i] {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			rss, hwm := procStatus()
			samples = append(samples, rssSample{Transcripts: i, RSS: rss, HWM: hwm, HeapInuse: ms.HeapInuse})
			progress("retrieval: indexed %d of %d transcripts one at a time (RSS %.1f MiB)", i, o.transcripts, mib(rss))
		}
	}
	el := time.Since(start)
	fmt.Fprintf(w, "### Worker memory while indexing (%d transcripts, one at a time, in process)\n\n", o.transcripts)
	fmt.Fprintf(w, "Each transcript: %d segments on average (200–500), chunked by retrieval.ChunkTranscript (%d chunks on average),\n",
		segments/o.transcripts, chunks/o.transcripts)
	fmt.Fprintf(w, "embedded by the local embedder (%d dims), written with two COPYs (activity, chunks) into a separate migrated database\n", o.dim)
	fmt.Fprintf(w, "(GIN and HNSW dropped). %d chunks in %s (%.0f transcripts/s). Go %s, GOGC default.\n\n",
		chunks, el.Round(time.Second), float64(o.transcripts)/el.Seconds(), runtime.Version())
	fmt.Fprintln(w, "| transcripts indexed | VmRSS | VmHWM (peak) | Go heap in use |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|")
	for _, s := range samples {
		fmt.Fprintf(w, "| %d | %.1f MiB | %.1f MiB | %.1f MiB |\n", s.Transcripts, mib(s.RSS), mib(s.HWM), float64(s.HeapInuse)/(1<<20))
	}
	fmt.Fprintln(w)
	return samples, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
