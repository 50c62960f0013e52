package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// EnvScreenshotDir names a directory where TestDashboardInBrowser keeps its
// screenshot and DOM (default: the test's artifact directory, kept with
// `go test -artifacts`).
const EnvScreenshotDir = "YONGJIN_SCREENSHOT_DIR"

// chromium finds Debian's chromium (or another Chrome). Without one the
// test fails (make test installs it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("headless browser test: chromium not found; install it with `apt-get install -y chromium` (make test does)")
	return ""
}

// runChromium runs headless Chromium on url with extra flags and returns stdout.
func runChromium(t *testing.T, bin string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(),
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, tailLines(stderr.String(), 20))
	}
	return stdout.Bytes()
}

func tailLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

func outputDir(t *testing.T) string {
	if d := os.Getenv(EnvScreenshotDir); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.ArtifactDir()
}

// TestDashboardInBrowser serves the dashboard on loopback, loads it in
// headless Chromium, checks the rendered DOM holds the four charts with the
// expected numbers, and takes a screenshot, which must be a 1280×1600 PNG
// showing the charts' colours.
func TestDashboardInBrowser(t *testing.T) {
	bin := chromium(t)
	mux := http.NewServeMux()
	mux.Handle("/dashboard", New(fixtureStore(t), Config{Now: fixedNow}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/dashboard?from=2024-03-01&to=2024-03-03"
	dir := outputDir(t)

	dom := string(runChromium(t, bin, "--dump-dom", url))
	if err := os.WriteFile(filepath.Join(dir, "dashboard-dom.html"), []byte(dom), 0o644); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(dom, `<svg class="chart"`); n != 4 {
		t.Fatalf("rendered DOM has %d charts, want 4:\n%s", n, tailLines(dom, 40))
	}
	requireContains(t, dom, fixturePageWants...)

	shot := filepath.Join(dir, "dashboard.png")
	runChromium(t, bin, "--screenshot="+shot, "--window-size=1280,1600", url)
	t.Logf("screenshot: %s", shot)
	checkScreenshot(t, shot, 1280, 1600, map[string]color.RGBA{
		"header":                  {0x11, 0x18, 0x27, 0xff},
		"douke legend":            {0x25, 0x63, 0xeb, 0xff},
		"taobao-live legend":      {0x16, 0xa3, 0x4a, 0xff},
		"estimated bars":          {0x93, 0xc5, 0xfd, 0xff},
		"settled bars":            {0x1d, 0x4e, 0xd8, 0xff},
		"refunded bars":           {0xef, 0x44, 0x44, 0xff},
		"page background":         {0xf3, 0xf4, 0xf6, 0xff},
		"card background (white)": {0xff, 0xff, 0xff, 0xff},
	})
}

// checkScreenshot requires a PNG of the given size with many colours and at
// least 100 pixels of each wanted colour (±4 per channel).
func checkScreenshot(t *testing.T, path string, w, h int, want map[string]color.RGBA) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("screenshot is %dx%d, want %dx%d", b.Dx(), b.Dy(), w, h)
	}
	distinct := map[color.RGBA]bool{}
	counts := map[string]int{}
	near := func(a, b uint8) bool { d := int(a) - int(b); return d >= -4 && d <= 4 }
	forEach(img, func(c color.RGBA) {
		distinct[c] = true
		for name, wc := range want {
			if near(c.R, wc.R) && near(c.G, wc.G) && near(c.B, wc.B) {
				counts[name]++
			}
		}
	})
	if len(distinct) < 200 {
		t.Errorf("screenshot has only %d colours: nothing much rendered", len(distinct))
	}
	for name := range want {
		if counts[name] < 100 {
			t.Errorf("screenshot shows %d pixels of %s, want ≥ 100 (%s)", counts[name], name, fmt.Sprint(want[name]))
		}
	}
}

func forEach(img image.Image, fn func(color.RGBA)) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			fn(color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)})
		}
	}
}
