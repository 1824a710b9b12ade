package deploy

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// dockerfile is the image's build file, at the repository's root.
var dockerfile = filepath.Join("..", "Dockerfile")

// TestDockerfileRules reads the Dockerfile's instructions: a multi-stage
// build of a static binary (CGO_ENABLED=0) whose last stage is
// distroless/static or scratch (no shell), runs as a numeric non-root
// user, keeps the data directory as a volume and starts the server
// without a shell (exec form).
func TestDockerfileRules(t *testing.T) {
	f, err := os.Open(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var froms, runs []string
	var user, entrypoint, volume string
	sc := bufio.NewScanner(f)
	var line string
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(l, "\\"); ok {
			line += cont + " "
			continue
		}
		line += l
		instr, rest, _ := strings.Cut(line, " ")
		line = ""
		switch strings.ToUpper(instr) {
		case "FROM":
			froms = append(froms, rest)
			user = "" // USER is per stage
		case "RUN":
			runs = append(runs, rest)
		case "USER":
			user = rest
		case "ENTRYPOINT":
			entrypoint = rest
		case "VOLUME":
			volume = rest
		}
	}
	if len(froms) < 2 {
		t.Errorf("%d stages, want a multi-stage build", len(froms))
	}
	if len(froms) > 0 {
		last := froms[len(froms)-1]
		if !strings.HasPrefix(last, "gcr.io/distroless/static") && last != "scratch" {
			t.Errorf("last stage FROM %s, want distroless/static or scratch", last)
		}
	}
	if !strings.Contains(strings.Join(runs, "\n"), "CGO_ENABLED=0 go build") {
		t.Error("no CGO_ENABLED=0 go build: the binary must be static")
	}
	uid, _, _ := strings.Cut(user, ":")
	if uid == "" || uid == "0" || strings.Trim(uid, "0123456789") != "" {
		t.Errorf("last stage USER %q, want a numeric non-root user (Kubernetes checks runAsNonRoot by UID)", user)
	}
	if !strings.HasPrefix(entrypoint, "[") {
		t.Errorf("ENTRYPOINT %s, want the exec form (no shell)", entrypoint)
	}
	if !strings.Contains(volume, "/data") {
		t.Errorf("VOLUME %q, want /data", volume)
	}
}

// containerTool returns the first of docker, podman and buildah that can
// build here (for docker, a daemon that answers), or "" and why not.
func containerTool(ctx context.Context) (string, string) {
	var why []string
	for _, tool := range []string{"docker", "podman", "buildah"} {
		path, err := exec.LookPath(tool)
		if err != nil {
			why = append(why, tool+": not installed")
			continue
		}
		check := []string{"info"}
		if tool == "buildah" {
			check = []string{"version"}
		}
		if out, err := exec.CommandContext(ctx, path, check...).CombinedOutput(); err != nil {
			last := strings.TrimSpace(string(out))
			if i := strings.LastIndexByte(last, '\n'); i >= 0 {
				last = last[i+1:]
			}
			why = append(why, tool+": "+last)
			continue
		}
		return tool, ""
	}
	return "", strings.Join(why, "; ")
}

// TestImageBuild builds the image with docker, podman or buildah and
// checks what it runs as; it skips, saying why, where none of them works.
func TestImageBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a container image")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tool, why := containerTool(ctx)
	if tool == "" {
		t.Skipf("no container tool can build an image here (%s): the image build is not checked", why)
	}
	var b [4]byte
	rand.Read(b[:])
	tag := "robinscreen:test-" + hex.EncodeToString(b[:])
	build := []string{"build", "-f", dockerfile, "-t", tag, ".."}
	if tool == "buildah" {
		build = append([]string{"bud"}, build[1:]...)
	}
	if out, err := exec.CommandContext(ctx, tool, build...).CombinedOutput(); err != nil {
		t.Fatalf("%s build: %v\n%s", tool, err, out)
	}
	defer exec.Command(tool, "rmi", tag).Run()
	out, err := exec.CommandContext(ctx, tool, "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Volumes}} {{json .Config.Entrypoint}}", tag).CombinedOutput()
	if tool == "buildah" {
		out, err = exec.CommandContext(ctx, tool, "inspect", "--format", "{{.OCIv1.Config.User}} {{json .OCIv1.Config.Volumes}} {{json .OCIv1.Config.Entrypoint}}", tag).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("inspect: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	for _, want := range []string{"65532:65532 ", `"/data"`, `["/usr/local/bin/robinscreen","serve","--data","/data"]`} {
		if !strings.Contains(got, want) {
			t.Errorf("image config %s: want %s", got, want)
		}
	}
	if tool == "buildah" {
		return // running the image needs podman or docker
	}
	// No shell: the image cannot run /bin/sh.
	if out, err := exec.CommandContext(ctx, tool, "run", "--rm", "--entrypoint", "/bin/sh", tag, "-c", "true").CombinedOutput(); err == nil {
		t.Errorf("the image runs /bin/sh: %s", out)
	}
	// The binary runs: serve -h prints its flags (exit 2, usage).
	out, _ = exec.CommandContext(ctx, tool, "run", "--rm", tag, "-h").CombinedOutput()
	if !strings.Contains(string(out), "-max-connection-age") {
		t.Errorf("serve -h in the image:\n%s", out)
	}
}
