package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the bot command built once for the tests that run it as a
// real process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bot-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	binary = filepath.Join(dir, "bot")

	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")

	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build bot:", err)
		os.Exit(1)
	}

	code := m.Run()

	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running "bot serve".
type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	done chan struct{}

	mu  sync.Mutex
	log strings.Builder
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	return ln.Addr().String()
}

// testEnv returns the environment for a gateway under test: the test's
// environment without BOT_ variables, the echo responder (so that answers
// are predictable), plus env, whose entries win.
func testEnv(env ...string) []string {
	out := []string{"BOT_AGENT_RESPONDER=echo"}

	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BOT_") {
			out = append(out, kv)
		}
	}

	return append(out, env...)
}

// startServe runs "bot serve" in dir with env (BOT_HTTP_ADDR is set to a
// free port unless env sets it) and waits until /healthz answers.
func startServe(t *testing.T, dir string, env ...string) *process {
	t.Helper()

	addr := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "BOT_HTTP_ADDR="); ok {
			addr = v
		}
	}

	if addr == "" {
		addr = freeAddr(t)
		env = append(env, "BOT_HTTP_ADDR="+addr)
	}

	p := &process{t: t, addr: addr, done: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Dir = dir
	p.cmd.Env = testEnv(append([]string{"BOT_LOG_LEVEL=debug"}, env...)...)

	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}

	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start bot serve: %v", err)
	}

	go p.collect(stderr)

	t.Cleanup(func() { p.kill() })

	if err := p.waitHealthy(15 * time.Second); err != nil {
		p.kill()
		t.Fatalf("bot serve did not become healthy: %v\n%s", err, p.logs())
	}

	return p
}

func (p *process) collect(r io.Reader) {
	defer close(p.done)

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)

	for sc.Scan() {
		p.mu.Lock()
		p.log.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
	}

	_ = p.cmd.Wait()
}

func (p *process) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()

	return p.log.String()
}

func (p *process) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)

	for {
		resp, err := http.Get("http://" + p.addr + "/healthz")
		if err == nil {
			resp.Body.Close()

			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}

		select {
		case <-p.done:
			return fmt.Errorf("process exited")
		default:
		}

		if time.Now().After(deadline) {
			return fmt.Errorf("no healthy answer within %s: %v", timeout, err)
		}

		time.Sleep(10 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL and waits for it.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop ends the process with SIGTERM and waits up to 10 s for a clean
// exit.
func (p *process) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)

	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
		return fmt.Errorf("no exit within 10 s of SIGTERM")
	}

	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("exit code %d", code)
	}

	return nil
}

// runBot runs a one-shot bot command in dir and returns its stdout, stderr
// and exit code.
func runBot(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = testEnv(env...)

	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	err := cmd.Run()
	code := 0

	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run bot %v: %v", args, err)
	}

	return stdout.String(), stderr.String(), code
}
