// Package images assembles yongjin's container images without a Docker
// daemon: one static, non-root image per command, written as an OCI image
// layout, byte-for-byte reproducible from the same commit.
//
// Each image has two layers. The base layer holds /etc/passwd and /etc/group
// (root and nonroot, uid/gid 65532), the root certificates the vendors' HTTPS
// needs (/etc/ssl/certs/ca-certificates.crt, from the Go module
// golang.org/x/crypto/x509roots/fallback, so the file is the same on every
// machine), /tmp (1777) and /home/nonroot. The application layer holds the
// command, built with CGO_ENABLED=0 -trimpath -buildvcs=false and an empty
// build ID, as /usr/local/bin/<command>. No shell, no package manager. Every
// file time, the image's creation time and its history are the commit time.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// NonRoot is the numeric user and group every image runs as.
const NonRoot = 65532

// BinDir is where the command lives in the image.
const BinDir = "/usr/local/bin"

// Label keys (OCI image annotations used as labels) every image carries.
const (
	LabelRevision = "org.opencontainers.image.revision"
	LabelSource   = "org.opencontainers.image.source"
	LabelCreated  = "org.opencontainers.image.created"
	LabelTitle    = "org.opencontainers.image.title"
	LabelVersion  = "org.opencontainers.image.version"
)

// ErrNoRevision is returned when the source revision cannot be determined.
var ErrNoRevision = errors.New("images: no source revision")

// Options says what to build.
type Options struct {
	// Root is the yongjin checkout (the directory of its go.mod).
	Root string
	// Commands are the names under cmd/ to build, e.g. "sink".
	Commands []string
	// Revision is the source revision for the labels (git commit).
	Revision string
	// Created is the commit time: file times, creation time and history.
	Created time.Time
	// Version is the image version label (default "dev").
	Version string
	// Arch is the GOARCH to build for (default amd64).
	Arch string
	// Source is the source repository label (default the module path).
	Source string
}

// Built is one image written to a layout.
type Built struct {
	Command string
	Digest  v1.Hash
	Image   v1.Image
}

// GitRevision returns HEAD's commit and commit time in root; a tree with
// uncommitted changes gets the suffix "-dirty" (its images are still
// reproducible, but no longer name one commit).
func GitRevision(ctx context.Context, root string) (string, time.Time, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "log", "-1", "--format=%H %ct").Output()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("%w: git log in %s: %w", ErrNoRevision, root, err)
	}
	var rev string
	var sec int64
	if _, err := fmt.Sscanf(string(out), "%s %d", &rev, &sec); err != nil {
		return "", time.Time{}, fmt.Errorf("%w: parse %q: %w", ErrNoRevision, out, err)
	}
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("git status in %s: %w", root, err)
	}
	if len(bytes.TrimSpace(status)) > 0 {
		rev += "-dirty"
	}
	return rev, time.Unix(sec, 0).UTC(), nil
}

// Build compiles every command and assembles its image; it does not write
// anything but the compiled binaries (in a temporary directory).
func Build(ctx context.Context, o Options) ([]Built, error) {
	if o.Revision == "" {
		return nil, ErrNoRevision
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Arch == "" {
		o.Arch = "amd64"
	}
	if o.Source == "" {
		o.Source = "github.com/yongjin-dev/yongjin"
	}
	o.Created = o.Created.UTC().Truncate(time.Second)
	tmp, err := os.MkdirTemp("", "yongjin-images-")
	if err != nil {
		return nil, fmt.Errorf("images: temp dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	base, err := baseLayer(o.Created)
	if err != nil {
		return nil, err
	}
	var out []Built
	for _, name := range o.Commands {
		bin := filepath.Join(tmp, name)
		if err := compile(ctx, o, name, bin); err != nil {
			return nil, err
		}
		img, err := assemble(o, name, bin, base)
		if err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("images: digest of %s: %w", name, err)
		}
		out = append(out, Built{Command: name, Digest: d, Image: img})
	}
	return out, nil
}

// WriteLayout writes the images to an OCI image layout at dir (replacing
// what was there), each annotated with its reference name "yongjin/<command>:<version>".
func WriteLayout(dir, version string, built []Built) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("images: clear %s: %w", dir, err)
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("images: layout %s: %w", dir, err)
	}
	for _, b := range built {
		ref := "yongjin/" + b.Command + ":" + version
		if err := p.AppendImage(b.Image, layout.WithAnnotations(map[string]string{
			"org.opencontainers.image.ref.name": ref,
		})); err != nil {
			return fmt.Errorf("images: write %s: %w", ref, err)
		}
	}
	return nil
}

func compile(ctx context.Context, o Options, name, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid=", "-o", bin, "./cmd/"+name)
	cmd.Dir = o.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+o.Arch, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("images: go build ./cmd/%s: %w\n%s", name, err, out)
	}
	return nil
}

func assemble(o Options, name, bin string, base v1.Layer) (v1.Image, error) {
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("images: read %s: %w", bin, err)
	}
	app, err := layer(o.Created, []file{
		{path: "usr/", dir: true, mode: 0o755},
		{path: "usr/local/", dir: true, mode: 0o755},
		{path: "usr/local/bin/", dir: true, mode: 0o755},
		{path: "usr/local/bin/" + name, mode: 0o755, data: exe},
	})
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: o.Created}
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1),
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "yongjin tools/images: base files", Comment: "passwd, group, CA roots, /tmp"}, MediaType: types.OCILayer},
		mutate.Addendum{Layer: app, History: v1.History{Created: created, CreatedBy: "yongjin tools/images: go build ./cmd/" + name}, MediaType: types.OCILayer},
	)
	if err != nil {
		return nil, fmt.Errorf("images: layers of %s: %w", name, err)
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("images: config of %s: %w", name, err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = o.Arch, "linux", created
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", NonRoot, NonRoot),
		Entrypoint: []string{BinDir + "/" + name},
		WorkingDir: "/home/nonroot",
		Env:        []string{"PATH=" + BinDir, "HOME=/home/nonroot", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
		Labels: map[string]string{
			LabelRevision: o.Revision,
			LabelSource:   o.Source,
			LabelCreated:  o.Created.Format(time.RFC3339),
			LabelTitle:    "yongjin " + name,
			LabelVersion:  o.Version,
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("images: set config of %s: %w", name, err)
	}
	return img, nil
}

func baseLayer(created time.Time) (v1.Layer, error) {
	var roots bytes.Buffer
	for r := range bundle.Roots() {
		if r.Constraint != nil {
			continue // constraints cannot be written into a PEM file
		}
		if err := pem.Encode(&roots, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate}); err != nil {
			return nil, fmt.Errorf("images: encode root: %w", err)
		}
	}
	if roots.Len() == 0 {
		return nil, errors.New("images: no root certificates in the bundle")
	}
	return layer(created, []file{
		{path: "etc/", dir: true, mode: 0o755},
		{path: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{path: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnonroot:x:65532:\n")},
		{path: "etc/ssl/", dir: true, mode: 0o755},
		{path: "etc/ssl/certs/", dir: true, mode: 0o755},
		{path: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: roots.Bytes()},
		{path: "home/", dir: true, mode: 0o755},
		{path: "home/nonroot/", dir: true, mode: 0o700, uid: NonRoot},
		{path: "tmp/", dir: true, mode: 0o1777},
	})
}

type file struct {
	path string
	dir  bool
	mode int64
	uid  int
	data []byte
}

// layer writes files into a tar in path order with fixed times and owners.
func layer(created time.Time, files []file) (v1.Layer, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.path, Mode: f.mode, Uid: f.uid, Gid: f.uid, ModTime: created, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("images: tar %s: %w", f.path, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("images: tar %s: %w", f.path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("images: tar: %w", err)
	}
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("images: layer: %w", err)
	}
	return l, nil
}
