package obs

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/yongjin-dev/yongjin/internal/testenv"
)

// /readyz answers a short state naming the failing checks, never their
// error text (which can name servers, users and paths); the detail goes to
// the log, once per change, and so does the return to ready.
func TestReadyzAnswersStateAndLogsDetail(t *testing.T) {
	const detail = "dial tcp 10.1.2.3:4222: user yongjin-secret-user refused"
	var natsDown, chDown atomic.Bool
	ready := &Readiness{}
	ready.Add("nats:poller", func(context.Context) error {
		if natsDown.Load() {
			return errors.New(detail)
		}
		return nil
	})
	ready.Add("clickhouse", func(context.Context) error {
		if chDown.Load() {
			return errors.New("clickhouse 10.1.2.4:9000: " + detail)
		}
		return nil
	})
	logs := &testenv.SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	srv, err := Listen("127.0.0.1:0", NewRegistry(), ready, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Shutdown(context.Background()) })

	steps := []struct {
		name           string
		nats, ch       bool // down
		wantStatus     int
		wantBody       string
		wantNewLogs    []string // substrings of the lines this probe logs
		wantNoNewLines bool
	}{
		{name: "all ready", wantStatus: 200, wantBody: "ready\n", wantNoNewLines: true},
		{name: "nats down", nats: true, wantStatus: 503, wantBody: "not ready: nats:poller\n",
			wantNewLogs: []string{`"msg":"not ready"`, detail, `"failing":["nats:poller"]`}},
		{name: "nats still down: logged once", nats: true, wantStatus: 503, wantBody: "not ready: nats:poller\n", wantNoNewLines: true},
		{name: "both down", nats: true, ch: true, wantStatus: 503, wantBody: "not ready: clickhouse, nats:poller\n",
			wantNewLogs: []string{`"failing":["clickhouse","nats:poller"]`, "clickhouse 10.1.2.4:9000"}},
		{name: "ready again", wantStatus: 200, wantBody: "ready\n", wantNewLogs: []string{`"msg":"ready again"`}},
		{name: "still ready", wantStatus: 200, wantBody: "ready\n", wantNoNewLines: true},
	}
	for _, st := range steps {
		natsDown.Store(st.nats)
		chDown.Store(st.ch)
		before := len(logs.String())
		res, err := http.Get("http://" + srv.Addr() + "/readyz")
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != st.wantStatus || string(body) != st.wantBody {
			t.Errorf("%s: /readyz = %d %q, want %d %q", st.name, res.StatusCode, body, st.wantStatus, st.wantBody)
		}
		if strings.Contains(string(body), "10.1.2") || strings.Contains(string(body), "secret") {
			t.Errorf("%s: /readyz answers the error text: %q", st.name, body)
		}
		added := logs.String()[before:]
		for _, w := range st.wantNewLogs {
			if !strings.Contains(added, w) {
				t.Errorf("%s: the log lacks %q:\n%s", st.name, w, added)
			}
		}
		if st.wantNoNewLines && added != "" {
			t.Errorf("%s: logged %q, want nothing", st.name, added)
		}
	}
}
