package dlq

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongjin-dev/yongjin/internal/bus"
	"github.com/yongjin-dev/yongjin/internal/cli"
)

// Command implements `<stage> dlq list|show|redrive` for a stage's command;
// it returns the exit status.
func Command(stage string, args []string, stdout, stderr io.Writer) int {
	usage := fmt.Sprintf(`usage:
  %[1]s dlq list    [--vendor V] [--reason TEXT]            dead letters of the %[1]s, oldest first
  %[1]s dlq show    SEQ                                      one dead letter: reason, headers, body
  %[1]s dlq redrive [--vendor V] [--reason TEXT] [--seq N,M]  republish to the original subject, then remove
common flags: --nats-url, --nats-creds, --nats-nkey, --nats-ca, --nats-cert, --nats-key (env YONGJIN_%[2]s_NATS_URL, ...);
secrets from $YONGJIN_NATS_USER + $YONGJIN_NATS_PASSWORD[_FILE] or $YONGJIN_NATS_TOKEN[_FILE]`, stage, strings.ToUpper(stage))
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	verb, args := args[0], args[1:]
	fs := flag.NewFlagSet(stage+" dlq "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	natsURL := fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL (never credentials: see docs/SECURITY.md)")
	var auth bus.Auth
	auth.RegisterFlags(fs)
	vendor := fs.String("vendor", "", "only dead letters of this vendor")
	reason := fs.String("reason", "", "only dead letters whose reason contains this text")
	seqs := fs.String("seq", "", "only these DLQ sequences (comma-separated)")
	if err := cli.Parse(fs, "YONGJIN_"+strings.ToUpper(stage), usage, args); err != nil {
		return 2
	}
	f := Filter{Vendor: *vendor, ReasonContains: *reason}
	for _, s := range strings.Split(*seqs, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "--seq: %q is not a sequence number\n", s)
			return 2
		}
		f.Seqs = append(f.Seqs, n)
	}
	if err := auth.FromEnv(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	nc, err := bus.Connect(bus.ConnConfig{URL: *natsURL, Name: "yongjin-" + stage + "-dlq", Auth: auth, FirstConnectWait: 10 * time.Second})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	q := New(js, stage)
	switch verb {
	case "list":
		letters, err := q.List(ctx, f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		PrintList(stdout, letters)
	case "show":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		seq, err := strconv.ParseUint(fs.Arg(0), 10, 64)
		if err != nil {
			fmt.Fprintf(stderr, "show: %q is not a sequence number\n", fs.Arg(0))
			return 2
		}
		l, err := q.Show(ctx, seq)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		PrintLetter(stdout, l)
	case "redrive":
		n, err := q.Redrive(ctx, f)
		fmt.Fprintf(stdout, "%d dead letters redriven\n", n)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	return 0
}
