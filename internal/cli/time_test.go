package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/yongjin-dev/yongjin/internal/cli"
)

func TestParseOperatorTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-10-01", want: time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC)},
		{in: "2026-10-01 08:00:00", want: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{in: "  2026-10-01 08:00:00\n", want: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-10-01T08:00:00+08:00", want: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
		{in: "2026-10-01T08:00:00Z", want: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)},
		{in: "2026-10-01T08:00:00-05:00", want: time.Date(2026, 10, 1, 13, 0, 0, 0, time.UTC)},
		{in: "2026-10-01T08:00:00.5Z", want: time.Date(2026, 10, 1, 8, 0, 0, 500e6, time.UTC)},
		{in: "garbage", wantErr: true},
		{in: "", wantErr: true},
		{in: "2026-10-01T08:00:00", wantErr: true}, // RFC 3339 needs a zone
		{in: "2026-13-01", wantErr: true},
		{in: "2026/10/01", wantErr: true},
		{in: "1759276800", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := cli.ParseOperatorTime(tc.in)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ParseOperatorTime(%q) = %s, want error", tc.in, got)
				}
				if !strings.Contains(err.Error(), "RFC 3339") {
					t.Errorf("error %q does not say which formats are accepted", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || got.Location() != time.UTC {
				t.Errorf("ParseOperatorTime(%q) = %s, want %s (UTC)", tc.in, got, tc.want)
			}
		})
	}
}
