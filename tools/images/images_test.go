package images

import (
	"archive/tar"
	"context"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// TestImageRunsFromItsFilesystem builds the normalizer image twice from
// this checkout, requires the same digest both times, writes it to an OCI
// layout, reads it back, extracts its filesystem and checks it: labels with
// the source revision, a numeric non-root user, no shell anywhere, a
// statically linked binary at the entrypoint, and that binary, executed from
// the extracted filesystem as uid 65532, turning a vendor page into events.
func TestImageRunsFromItsFilesystem(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	rev, created, err := GitRevision(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Root: root, Commands: []string{"normalizer"}, Revision: rev, Created: created, Version: "test"}
	first, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].Digest != second[0].Digest {
		t.Fatalf("two builds of the same commit differ: %s vs %s", first[0].Digest, second[0].Digest)
	}
	t.Logf("yongjin/normalizer:test@%s (revision %s)", first[0].Digest, rev)

	dir := filepath.Join(t.TempDir(), "layout")
	if err := WriteLayout(dir, "test", first); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "yongjin/normalizer:test" {
		t.Fatalf("layout index: %+v", im.Manifests)
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := img.Digest(); d != first[0].Digest {
		t.Fatalf("layout holds %s, built %s", d, first[0].Digest)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{LabelRevision: rev, LabelCreated: created.UTC().Format(time.RFC3339), LabelVersion: "test"} {
		if got := cf.Config.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (numeric, so runAsNonRoot can verify it)", cf.Config.User)
	}
	if !cf.Created.Time.Equal(created) {
		t.Errorf("created %s, want the commit time %s", cf.Created.Time, created)
	}
	if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != BinDir+"/normalizer" {
		t.Fatalf("entrypoint %q", cf.Config.Entrypoint)
	}

	fs := t.TempDir()
	names := extract(t, img, fs)
	for _, n := range names {
		base := filepath.Base(n)
		if base == "sh" || base == "bash" || base == "busybox" || base == "ash" {
			t.Errorf("the image holds a shell: %s", n)
		}
	}
	for _, want := range []string{"etc/passwd", "etc/ssl/certs/ca-certificates.crt", "tmp", "usr/local/bin/normalizer"} {
		if _, err := os.Stat(filepath.Join(fs, want)); err != nil {
			t.Errorf("image lacks %s: %v", want, err)
		}
	}
	exe := filepath.Join(fs, cf.Config.Entrypoint[0])
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s is dynamically linked", exe)
		}
	}
	ef.Close()

	page, err := filepath.Abs("../../pkg/vendors/douke/testdata/doc_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, "inspect", "--vendor", "douke", page)
	cmd.Env = cf.Config.Env
	cmd.Dir = fs
	if os.Getuid() == 0 {
		// run as the image's user; the extracted tree and the page must be readable by it
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: NonRoot, Gid: NonRoot}}
		for _, p := range []string{fs, filepath.Dir(fs)} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the image's normalizer failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"order.v1"`) || !strings.Contains(string(out), `"commission.v1"`) {
		t.Fatalf("the image's normalizer printed no events:\n%s", out)
	}
}

// extract writes the image's flattened filesystem to dir and returns the
// names of its entries.
func extract(t *testing.T, img v1.Image, dir string) []string {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	names, err := untar(rc, dir)
	if err != nil {
		t.Fatalf("extract the image: %v", err)
	}
	return names
}

var errUnsafe = errors.New("unsafe path in image")

func untar(r io.Reader, dir string) ([]string, error) {
	tr := tar.NewReader(r)
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, err
		}
		name := filepath.Clean(h.Name)
		if strings.HasPrefix(name, "..") || filepath.IsAbs(name) {
			return nil, errUnsafe
		}
		names = append(names, name)
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, os.FileMode(h.Mode).Perm()|0o700); err != nil {
				return nil, err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode).Perm())
			if err != nil {
				return nil, err
			}
			if _, err := io.Copy(f, tr); err != nil {
				f.Close()
				return nil, err
			}
			if err := f.Close(); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("unexpected entry " + h.Name)
		}
	}
}
