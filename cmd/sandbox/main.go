// Command sandbox runs yongjin's vendor sandbox: a local HTTP server that
// speaks the vendors' protocols (today veapi douke kol_OrderAds) from seeded,
// deterministic orders that move through their life cycle as a virtual clock
// advances, with ground truth and clock control under /_sandbox/.
//
// Run "sandbox --help" for the flags and endpoints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/yongjin-dev/yongjin/internal/cli"
	"github.com/yongjin-dev/yongjin/internal/sandbox"
	doukesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douke"
	csjsandbox "github.com/yongjin-dev/yongjin/internal/sandbox/doukecsj"
	douyinpoisandbox "github.com/yongjin-dev/yongjin/internal/sandbox/douyinpoi"
	taobaolivesandbox "github.com/yongjin-dev/yongjin/internal/sandbox/taobaolive"
	xingtusandbox "github.com/yongjin-dev/yongjin/internal/sandbox/xingtu"
	"github.com/yongjin-dev/yongjin/internal/vendorsandbox"
	"github.com/yongjin-dev/yongjin/pkg/vendors/wire"
)

const intro = `usage: sandbox run [flags]

A local stand-in for the vendor APIs yongjin polls. Orders are generated from
--seed (same seed and flags: same orders, byte for byte) with pay times spread
over [--from, --to). Each order has a fixed life cycle (paid → received →
settled, refunds before or after settlement); what the endpoints show is the
state at the sandbox clock, which starts at --clock and only moves when you
move it (POST /_sandbox/clock). /_sandbox/truth tells what yongjin should end
up with.

Vendor endpoints:
  GET|POST /douke/kol_OrderAds   veapi douke orders, exactly as documented:
           vekey (required), size 1..20, cursor ("0" first), start_time and
           end_time ("2006-01-02 15:04:05" CST, from 2021-10-01, at most 90
           days apart), time_type pay|update, order_ids (≤10),
           distribution_type, pid, open_id, query_order_type.
  GET|POST /router/rest          Taobao TOP alibaba.matrix.tcp.outer.querypredictorderlist:
           signed (md5, hmac, hmac-sha256), timestamp within 10 min of the
           sandbox clock, wrapped or simplify=true shapes, error_response codes.
  POST /oauth/client_token/      Douyin Open Platform client token (2 h of sandbox time)
  POST /poi/plan/list/           Douyin POI commission plans of an SPU (access-token header);
           GET /_sandbox/douyin-poi/spus lists the generated SPU IDs.
  GET|POST /douke/csj_ordersearch veapi douke 穿山甲 order search: vekey, size 1..50,
           cursor ("0" first, "" ends), start_time and end_time (CST date
           string or Unix seconds, at most 90 days apart), time_type
           pay|update, order_type, order_ids (≤10); data 10 s behind the clock.
  GET /api/douyin-xingtu/gw/api/aggregator/get_author_order_experience/v1
           JustOneAPI Xingtu creator order experience (token, oAuthorId, period);
           the generated author IDs are logged at start-up.

`

const outro = `
Every flag can also be set in the environment as YONGJIN_SANDBOX_<FLAG>
(upper case, dashes as underscores, e.g. YONGJIN_SANDBOX_SEED=7,
YONGJIN_SANDBOX_DOUKE_VEKEY=...); a flag given on the command line wins.
Times accept RFC 3339, "2006-01-02 15:04:05" or "2006-01-02" (both CST).

Try:
  sandbox &
  curl 'http://127.0.0.1:8700/douke/kol_OrderAds?vekey=sandbox-vekey&size=2&start_time=2026-10-01+00:00:00&end_time=2026-10-31+23:59:59'
  curl -X POST 'http://127.0.0.1:8700/_sandbox/clock?advance=72h'
  curl 'http://127.0.0.1:8700/_sandbox/truth?vendor=douke&orders=false'
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal kills the process the default way
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

var program = cli.Program{
	Name:    "sandbox",
	Summary: "yongjin's vendor sandbox.",
	Default: "run",
	Commands: []cli.Command{
		{Name: "run", Summary: "serve the vendor endpoints and /_sandbox/ until SIGTERM", Run: serve},
	},
	Notes: outro,
}

// run is the command: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return program.Run(ctx, args, stdout, stderr)
}

// options are the parsed flags.
type options struct {
	addr    string
	cfg     sandbox.Config // seed, orders, pay range, clock and faults
	account string
	creds   map[string]*string // flag name → value
}

// serve is `sandbox run`: flags → sandbox → HTTP server until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	opt, code, ok := parseFlags(args, stderr)
	if !ok {
		return code
	}
	cfg, err := opt.config()
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}
	started := time.Now()
	srv, err := vendorsandbox.NewServer(cfg)
	if err != nil {
		log.Error("invalid configuration", "err", err)
		return 2
	}
	ln, err := net.Listen("tcp", opt.addr)
	if err != nil {
		log.Error("listen", "addr", opt.addr, "err", err)
		return 1
	}
	hs := &http.Server{
		Handler:           accessLog(log, srv.Handler()),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("sandbox listening",
		"addr", "http://"+ln.Addr().String(),
		"seed", cfg.Seed, "orders_per_account", cfg.Orders,
		"paid_from", cfg.From.Format(time.RFC3339), "paid_to", cfg.To.Format(time.RFC3339),
		"clock", srv.Clock().Now().Format(time.RFC3339),
		"account", opt.account, // credentials are never logged
		"faults", fmt.Sprintf("%+v", cfg.Faults),
		"generated_in", time.Since(started).String(),
		"vendors", srv.Vendors(),
		"douyin_poi_spus", douyinpoisandbox.SPUs(cfg.Seed, opt.account),
		"xingtu_authors", xingtusandbox.Authors(cfg.Seed, opt.account),
	)

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		log.Error("serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("serve", "err", err)
		return 1
	}
	log.Info("stopped")
	return 0
}

// parseFlags parses args over sandbox.DefaultConfig, with overrides from the
// environment (YONGJIN_SANDBOX_<FLAG>). ok is false when the program must
// exit with code (0 after --help).
func parseFlags(args []string, stderr io.Writer) (opt options, code int, ok bool) {
	opt.cfg = sandbox.DefaultConfig()
	c := &opt.cfg
	fs := flag.NewFlagSet("sandbox run", flag.ContinueOnError)
	fs.StringVar(&opt.addr, "addr", "127.0.0.1:8700", "listen address")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "generator seed: the same seed and flags give the same orders")
	fs.IntVar(&c.Orders, "orders", c.Orders, "orders generated per account")
	cli.TimeVar(fs, &c.From, "from", cli.ParseOperatorTime, sandbox.WallLayout, wire.CST, "pay times start at (inclusive, CST unless RFC 3339)")
	cli.TimeVar(fs, &c.To, "to", cli.ParseOperatorTime, sandbox.WallLayout, wire.CST, "pay times end before (exclusive)")
	cli.TimeVar(fs, &c.Clock, "clock", cli.ParseOperatorTime, sandbox.WallLayout, wire.CST, "start time of the sandbox clock")
	fs.StringVar(&opt.account, "account", "demo", "name of the one account served for every vendor")
	opt.creds = map[string]*string{}
	for _, c := range []struct{ flag, def, usage string }{
		{"douke-vekey", "sandbox-vekey", "vekey the douke account accepts"},
		{"taobao-app-key", "sandbox-app-key", "Taobao TOP app_key"},
		{"taobao-app-secret", "sandbox-app-secret", "Taobao TOP app secret (signs requests)"},
		{"taobao-session", "sandbox-session", "Taobao TOP session"},
		{"douyin-client-key", "sandbox-client-key", "Douyin Open Platform client_key"},
		{"douyin-client-secret", "sandbox-client-secret", "Douyin Open Platform client_secret"},
		{"xingtu-token", "sandbox-token", "JustOneAPI token"},
		{"douke-csj-vekey", "sandbox-csj-vekey", "vekey the douke-csj (csj_ordersearch) account accepts"},
	} {
		opt.creds[c.flag] = fs.String(c.flag, c.def, c.usage)
	}
	f := &c.Faults
	fs.Float64Var(&f.ErrorRate5xx, "error-rate-5xx", f.ErrorRate5xx, "share of vendor requests answered HTTP 502 (0..1)")
	fs.Float64Var(&f.ThrottleRate, "throttle-rate", f.ThrottleRate, "share of vendor requests answered with the throttle envelope (0..1)")
	fs.Float64Var(&f.SlowRate, "slow-rate", f.SlowRate, "share of vendor requests delayed by --slow-for (0..1)")
	fs.DurationVar(&f.SlowFor, "slow-for", 2*time.Second, "delay of a slow request")
	fs.IntVar(&f.DriftedRecords, "drifted-records", f.DriftedRecords, "douke (and douke-csj) serve their first N orders with a type-drifted field (item_num 12.5), every time while the fault is on; the truth leaves them out, /_sandbox/stats lists them")
	fs.IntVar(&f.RecordPadding, "record-padding", f.RecordPadding, "douke (and douke-csj) pad every order with N bytes (large pages, beyond the NATS max payload at 20 × 55 KB)")
	fs.StringVar(&f.FailingItems, "failing-items", f.FailingItems, "comma-separated Douyin SPU IDs / Xingtu author IDs answered with the vendor's permanent error (left out of the truth)")
	fs.IntVar(&f.MalformedPages, "malformed-pages", f.MalformedPages, "douke, taobao-live and douke-csj each corrupt their first N non-empty pages (one order without pay time; asked again, the page is correct); /_sandbox/stats lists them")
	if code, ok := cli.ParseArgs(fs, "YONGJIN_SANDBOX", intro+sandbox.AdminHelp, args, stderr); !ok {
		return opt, code, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "sandbox: unexpected arguments %q\n", fs.Args())
		return opt, 2, false
	}
	return opt, 0, true
}

// config turns the options into a sandbox configuration.
func (o options) config() (sandbox.Config, error) {
	cfg := o.cfg
	for name, v := range o.creds {
		if *v == "" {
			return cfg, fmt.Errorf("--%s must not be empty", name)
		}
	}
	if o.account == "" {
		return cfg, errors.New("--account must not be empty")
	}
	c := func(name string) string { return *o.creds[name] }
	cfg.Accounts = []sandbox.Account{
		doukesandbox.Account(o.account, c("douke-vekey")),
		taobaolivesandbox.Account(o.account, c("taobao-app-key"), c("taobao-app-secret"), c("taobao-session")),
		douyinpoisandbox.Account(o.account, c("douyin-client-key"), c("douyin-client-secret")),
		xingtusandbox.Account(o.account, c("xingtu-token")),
		csjsandbox.Account(o.account, c("douke-csj-vekey")),
	}
	return cfg, cfg.Validate()
}

// statusRecorder captures the status code for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

// WriteHeader records code and forwards it.
func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Write counts the bytes and forwards them.
func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// accessLog logs one line per request. It logs the path only: the query
// string carries the vekey.
func accessLog(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000)
	})
}
