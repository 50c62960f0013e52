// Command images builds yongjin's container images without a Docker daemon
// (see package images) into an OCI image layout and prints each image's
// reference with its digest, one a line, e.g.
//
//	yongjin/sink:dev@sha256:...
//
// Load the layout into a registry or a runtime with any OCI tool, e.g.
// `crane push --index`, `skopeo copy oci:bin/images:yongjin/sink:dev ...`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/yongjin-dev/yongjin/tools/images"
)

func main() {
	root := flag.String("root", "..", "the yongjin checkout")
	out := flag.String("out", "../bin/images", "OCI image layout directory to write (replaced)")
	version := flag.String("version", "dev", "image version: the tag in the reference names and the version label")
	cmds := flag.String("commands", "poller,normalizer,sink", "commands under cmd/ to build, comma-separated")
	arch := flag.String("arch", "amd64", "GOARCH")
	flag.Parse()
	ctx := context.Background()
	abs, err := filepath.Abs(*root)
	if err != nil {
		fail(err)
	}
	rev, created, err := images.GitRevision(ctx, abs)
	if err != nil {
		fail(err)
	}
	built, err := images.Build(ctx, images.Options{Root: abs, Commands: strings.Split(*cmds, ","), Revision: rev,
		Created: created, Version: *version, Arch: *arch})
	if err != nil {
		fail(err)
	}
	if err := images.WriteLayout(*out, *version, built); err != nil {
		fail(err)
	}
	var lines []string
	for _, b := range built {
		lines = append(lines, fmt.Sprintf("yongjin/%s:%s@%s", b.Command, *version, b.Digest))
	}
	list := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(*out, "images.txt"), []byte(list), 0o644); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "images: revision %s, layout %s\n", rev, *out)
	fmt.Print(list)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "images:", err)
	os.Exit(1)
}
